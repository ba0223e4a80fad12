import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import fc from 'fast-check';
import { startHarness, type Harness } from '../../../test/support/harness';
import { pareri, Scenario, sha256, CONVENTION_TEXT, unione } from '../../../test/support/scenario';

/**
 * Issue #9, "a fuzz test in CI": the API as a hostile client sees it. The OpenAPI document is read from the
 * running app (/docs-json, with the payload schemas the definitions point to); each operation gets a VALID
 * request (real process ids, a valid token, a payload the process would accept now — proven by sending the
 * same request to a twin process before the run), and then one thing at a time is broken: a field's type,
 * a required field left out, an unknown field, a huge string, NUL and lone surrogates, deep nesting, a bad
 * enum or date, prototype keys, bad If-Match / Idempotency-Key / Content-Type headers, bad query values. To
 * reach FUZZ_REQUESTS (default 1500; more with FUZZ_REQUESTS=5000), fast-check draws further poisons (strings with NUL or lone surrogates,
 * values of the wrong type, prototype keys) into random fields.
 * Every answer must be a 4xx in the JSON error shape (never a 5xx, never a 2xx), and nothing may be written:
 * event counts, versions, instances, the ente registry and inbox reads are the same after the run.
 */
const REQUESTS = Number(process.env['FUZZ_REQUESTS'] ?? 1500);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261201);
const CONCURRENCY = 4;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Schema {
  type?: string;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  $ref?: string;
  allOf?: Schema[];
}
interface Param {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  method: string;
  path: string;
  parameters?: Param[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

/** One request as sent on the wire. */
interface Req {
  label: string;
  method: string;
  path: string;
  token: string;
  headers?: Record<string, string>;
  /** the body as JSON text (prototype keys cannot survive an object round trip) */
  body?: string;
}

/** A valid request per operation, and where its body's schema comes from. */
interface Baseline {
  op: Operation;
  req: Req;
  body?: Json;
  bodySchema?: Schema;
  query: Record<string, string>;
}

const v = unione('valdera');
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];

/** JSON text of a value in which `key` (maybe `__proto__`) is an own property of the object at `at`. */
function withKey(body: Json, at: (string | number)[], key: string, value: Json): string {
  const marker = `"zz_marker_${Math.random().toString(36).slice(2)}"`;
  const copy = structuredClone(body);
  const target = at.reduce<Json>((o, k) => (o as Record<string, Json>)[k]!, copy) as Record<
    string,
    Json
  >;
  target['zz_marker'] = 0;
  return JSON.stringify(copy)
    .replace(`"zz_marker":0`, `${JSON.stringify(key)}:${marker}`)
    .replace(marker, JSON.stringify(value));
}

function setAt(body: Json, path: (string | number)[], value: Json | undefined): string {
  const copy = structuredClone(body);
  const parent = path
    .slice(0, -1)
    .reduce<Json>((o, k) => (o as Record<string, Json>)[k]!, copy) as Record<string, Json>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return JSON.stringify(copy);
}

const nested = (depth: number): Json => (depth === 0 ? 1 : [nested(depth - 1)]);

/** Values that are certainly not valid for the schema's type (wrong type, or out of any sane range). */
function wrongTypes(s: Schema | undefined): Json[] {
  switch (s?.type) {
    case 'string':
      return [123, true, ['x'], { a: 'x' }];
    case 'integer':
      return ['12', 1.5, 1e20, true, [1]];
    case 'number': // every number of the API is a bounded count
      return ['12', true, { n: 1 }, 1e20, -1e20];
    case 'boolean':
      return ['true', 1, []];
    case 'array':
      return ['x', { a: 1 }, 7];
    case 'object':
      return ['x', [1], 7];
    default:
      return [];
  }
}

describe('fuzz: the OpenAPI operations, one field broken at a time (e2e)', () => {
  let h: Harness;
  let doc: {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, Schema> };
  };
  let agent: Agent;
  let port: number;
  const baselines: Baseline[] = [];

  const resolve = (s: Schema | undefined): Schema | undefined => {
    if (!s) return s;
    if (s.$ref) return resolve(doc.components.schemas[s.$ref.split('/').pop()!]);
    if (s.allOf?.length === 1) return resolve(s.allOf[0]);
    return s;
  };

  function send(r: Req): Promise<{ status: number; text: string; type: string }> {
    return new Promise((resolveP, reject) => {
      const headers: Record<string, string> = { Authorization: `Bearer ${r.token}`, ...r.headers };
      if (r.body !== undefined) {
        headers['Content-Type'] ??= 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(r.body));
      }
      const req = httpRequest(
        { host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          const done = () =>
            resolveP({
              status: res.complete ? (res.statusCode ?? 0) : -1,
              text,
              type: String(res.headers['content-type'] ?? ''),
            });
          res.on('end', done);
          res.on('close', done);
        },
      );
      // an answer that never comes is a failure of its own, not a hung test
      req.setTimeout(15_000, () => req.destroy(new Error(`no answer in 15 s: ${r.label}`)));
      req.on('error', reject);
      req.end(r.body);
    });
  }

  async function dbState(): Promise<Record<string, string>> {
    const rows: Record<string, string>[] = await h.ds.query(
      `SELECT (SELECT count(*) FROM process_event)::text AS events,
              (SELECT string_agg(id || ':' || version, ',' ORDER BY id) FROM process_instance) AS versions,
              (SELECT md5(coalesce(string_agg(e::text, ',' ORDER BY e.codice_ipa), '')) FROM ente e) AS entes,
              (SELECT count(*) FROM outbox)::text AS outbox,
              (SELECT count(*) FROM outbox WHERE read_at IS NOT NULL)::text AS reads`,
    );
    return rows[0]!;
  }

  beforeAll(async () => {
    h = await startHarness();
    const server = h.app.getHttpServer() as Server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
    agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  });
  afterAll(async () => {
    agent.destroy();
    await h.close();
  });

  it('answers every broken request with a 4xx and writes nothing', async () => {
    const [c1, c2] = v.comuni as [string, string];
    // processes in the state where a council deliberation is what they expect next: one to fuzz, one twin
    const target = new Scenario(h, v.ipa, [c1, c2]);
    await target.start(undefined, 'fuzz-target');
    await target.freeze();
    await target.sendToCouncils('2026-02-10T10:00:00+01:00');
    const twin = new Scenario(h, v.ipa, [c1, c2]);
    await twin.start(undefined, 'fuzz-twin');
    await twin.freeze();
    await twin.sendToCouncils('2026-02-10T10:00:00+01:00');
    h.clock.set(new Date('2026-02-21T09:00:00Z')); // the council met on the 20th
    const pres = await target.as('presidente');
    const seg = await target.as('segretario', c1);
    const admin = await h.token({ roles: ['admin'], ente: null, unione: null });
    const inbox: { id: string }[] = (
      await h.http().get('/v1/notifications').set('Authorization', `Bearer ${seg}`)
    ).body;
    const notice = inbox[0]!.id;

    const docs = await h.http().get('/docs-json');
    expect(docs.status).toBe(200);
    doc = docs.body;
    const definitions: {
      key: string;
      input: { name: string };
      events: { type: string; payload: { name: string } | null }[];
    }[] = (await h.http().get('/v1/definitions').set('Authorization', `Bearer ${pres}`)).body;
    const conv = definitions.find((d) => d.key === 'convenzione')!;
    const schemaNamed = (name: string) => doc.components.schemas[name]!;

    // the valid requests: bodies the process would take now, path ids that exist, a token that may act
    const deliberation = {
      ente: c1,
      number: '12/2026',
      date: '2026-02-20',
      outcome: 'APPROVED',
      textHash: sha256(CONVENTION_TEXT),
      pareri: pareri('2026-02-18'),
      votes: { favorevoli: 9, contrari: 1, astenuti: 0, presenti: 10, assegnati: 12 },
      immediatamenteEseguibile: false,
    };
    const eventSchema: Schema = {
      type: 'object',
      required: ['type', 'payload'],
      properties: {
        type: { type: 'string' },
        payload: schemaNamed(
          conv.events.find((e) => e.type === 'convention.deliberation.record')!.payload!.name,
        ),
      },
    };
    const startSchema: Schema = {
      type: 'object',
      required: ['definition', 'input'],
      properties: {
        definition: { type: 'string' },
        businessKey: { type: 'string' },
        input: schemaNamed(conv.input.name),
      },
    };
    const validBody = (path: string, method: string): [Json, Schema, string] | null => {
      if (method !== 'post') return null;
      if (path === '/v1/processes')
        return [
          {
            definition: 'convenzione',
            businessKey: 'fuzz-start',
            input: { title: 'Convenzione ICT (fuzz)', unione: v.ipa, members: [c1, c2] },
          },
          startSchema,
          pres,
        ];
      if (path === '/v1/processes/{id}/events')
        return [
          { type: 'convention.deliberation.record', payload: deliberation },
          eventSchema,
          seg,
        ];
      if (path === '/v1/entes') {
        const schema = resolve(
          Object.values(doc.paths[path]![method]!.requestBody!.content)[0]!.schema,
        )!;
        return [
          {
            kind: 'COMUNE',
            denominazione: 'Comune di Prova',
            codiceIpa: 'c_fz01',
            codiceIstat: '050099',
            codiceCatastale: 'Z999',
            pec: 'protocollo@pec.prova.invalid',
            regione: 'Toscana',
            provincia: 'PI',
            popolazione: 1000,
            unione: v.ipa,
          },
          schema,
          admin,
        ];
      }
      return null;
    };
    const validQuery: Record<string, Record<string, string>> = {
      '/v1/processes/{id}/state': { at: '2026-02-11T00:00:00Z' },
    };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        if (path === '/health') continue; // public, takes no input
        const concrete = path
          .replace('/v1/notifications/{id}', `/v1/notifications/${notice}`)
          .replace('{id}', target.id)
          .replace('{key}', 'convenzione');
        const valid = validBody(path, method);
        const query = validQuery[path] ?? {};
        const qs = new URLSearchParams(query).toString();
        baselines.push({
          op: { ...op, method, path },
          req: {
            label: `${method.toUpperCase()} ${path}`,
            method: method.toUpperCase(),
            path: qs ? `${concrete}?${qs}` : concrete,
            token: valid?.[2] ?? (path.startsWith('/v1/notifications') ? seg : pres),
            body: valid ? JSON.stringify(valid[0]) : undefined,
          },
          body: valid?.[0],
          bodySchema: valid?.[1],
          query,
        });
      }
    }
    expect(baselines.map((b) => b.req.label)).toEqual(
      expect.arrayContaining([
        'POST /v1/processes',
        'POST /v1/processes/{id}/events',
        'GET /v1/processes/{id}/history/export',
        'POST /v1/entes',
      ]),
    );

    // calibration: each valid write succeeds on a twin (another process, another business key / ente code),
    // so the refusals below are the broken field's doing, not a baseline that was never acceptable
    const calibrate = async (b: Baseline, path: string, body: Json) => {
      const res = await send({ ...b.req, path, body: JSON.stringify(body) });
      expect([b.req.label, res.status < 300 ? 'accepted' : res.text]).toEqual([
        b.req.label,
        'accepted',
      ]);
    };
    for (const b of baselines.filter((x) => x.body !== undefined)) {
      if (b.op.path === '/v1/processes/{id}/events')
        await calibrate(b, `/v1/processes/${twin.id}/events`, b.body!);
      if (b.op.path === '/v1/processes')
        await calibrate(b, b.req.path, { ...(b.body as object), businessKey: 'fuzz-calibration' });
      if (b.op.path === '/v1/entes')
        await calibrate(b, b.req.path, { ...(b.body as object), codiceIpa: 'c_fz02' });
    }
    for (const b of baselines.filter((x) => x.body === undefined && x.req.method === 'GET')) {
      const res = await send(b.req);
      expect([b.req.label, res.status === 200 ? 'ok' : res.text]).toEqual([b.req.label, 'ok']);
    }

    const broken: Req[] = [];
    const add = (b: Baseline, what: string, r: Partial<Req>) =>
      broken.push({ ...b.req, ...r, label: `${b.req.label} ${what}` });

    for (const b of baselines) {
      // body fields: every object, array and leaf of the valid body, guided by its schema
      if (b.body !== undefined) {
        const walk = (
          value: Json,
          schema: Schema | undefined,
          at: (string | number)[],
          required: boolean,
        ) => {
          const s = resolve(schema);
          const name = at.join('.') || 'body';
          if (at.length) {
            for (const w of wrongTypes(s))
              add(b, `${name}=${JSON.stringify(w)}`, { body: setAt(b.body!, at, w) });
            if (required) {
              add(b, `${name} missing`, { body: setAt(b.body!, at, undefined) });
              add(b, `${name}=null`, { body: setAt(b.body!, at, null) });
            }
            if (s?.type === 'string' || typeof value === 'string') {
              const text = typeof value === 'string' ? value : '';
              // a code looked up by the server (an ente, a definition, an event type) named like something every
              // object has: the lookup must not find it
              const last = at[at.length - 1];
              const lookedUp =
                ['ente', 'unione', 'definition', 'type'].includes(String(last)) ||
                (last === 0 && at[at.length - 2] === 'members');
              if (lookedUp)
                for (const own of ['constructor', '__proto__', 'tostring', 'hasownproperty'])
                  add(b, `${name}=${own}`, { body: setAt(b.body!, at, own) });
              add(b, `${name} huge`, { body: setAt(b.body!, at, 'x'.repeat(70_000)) });
              add(b, `${name} NUL`, { body: setAt(b.body!, at, `${text}\u0000`) });
              add(b, `${name} lone surrogate`, {
                body: setAt(b.body!, at, `${text}\ud800`),
              });
              add(b, `${name} lone low surrogate`, {
                body: setAt(b.body!, at, `\udc00${text}`),
              });
            }
            if (s?.enum)
              add(b, `${name} bad enum`, { body: setAt(b.body!, at, 'NOT_IN_THE_ENUM') });
            if (
              /date|At$|On$|Start$/i.test(String(at[at.length - 1])) &&
              typeof value === 'string'
            ) {
              for (const d of ['2026-02-30', 'yesterday', '2026-13-01T00:00:00Z', '20260220'])
                add(b, `${name} bad date ${d}`, { body: setAt(b.body!, at, d) });
            }
            add(b, `${name} deep`, { body: setAt(b.body!, at, nested(40)) });
          }
          if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
            add(b, `${name} + unknown field`, { body: withKey(b.body!, at, 'zzUnknownField', 1) });
            for (const k of PROTO_KEYS) {
              add(b, `${name} + ${k}`, { body: withKey(b.body!, at, k, { polluted: true }) });
            }
            const req = new Set(s?.required ?? []);
            for (const [k, child] of Object.entries(value))
              walk(child, s?.properties?.[k], [...at, k], req.has(k));
          } else if (Array.isArray(value) && value.length) {
            walk(value[0]!, s?.items, [...at, 0], true);
          }
        };
        walk(b.body, b.bodySchema, [], true);
        add(b, 'body is an array', { body: `[${b.req.body}]` });
        add(b, 'body malformed', { body: b.req.body!.slice(0, -1) });
        add(b, 'text/plain', { headers: { 'Content-Type': 'text/plain' } });
        add(b, 'charset latin1', {
          headers: { 'Content-Type': 'application/json; charset=latin1' },
        });
        add(b, 'gzip', {
          headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
        });
      }
      // headers of the transition
      if (b.op.path === '/v1/processes/{id}/events') {
        for (const m of ['abc', '"-1"', '1e3', 'W/', '"1.5"', '"999"', '0', `"${'9'.repeat(12)}"`])
          add(b, `If-Match ${m}`, { headers: { 'If-Match': m } });
        for (const k of ['a b', 'x'.repeat(201), 'ü', '', 'a/b', '{"a":1}'])
          add(b, `Idempotency-Key ${k.slice(0, 10)}`, { headers: { 'Idempotency-Key': k } });
      }
      // path parameters
      for (const p of (b.op.parameters ?? []).filter((x) => x.in === 'path')) {
        const bad =
          p.name === 'id'
            ? ['not-a-uuid', '%00', '%ED%A0%80', `${'1'.repeat(300)}`, '..%2F..']
            : ['%00', '%ED%A0%80', 'constructor', '__proto__', 'x'.repeat(300)];
        for (const x of bad) {
          const real = b.req.path.split('?')[0]!;
          const value = p.name === 'key' ? 'convenzione' : (/[0-9a-f-]{36}/.exec(real)?.[0] ?? '');
          add(b, `path ${p.name}=${x.slice(0, 12)}`, { path: b.req.path.replace(value, x) });
        }
        if (p.name === 'id') {
          add(b, 'unknown id', {
            path: b.req.path.replace(/[0-9a-f-]{36}/, '7c0f3a52-4a0e-4f7e-9d51-000000000000'),
          });
        }
      }
      // query parameters: each declared one broken alone, an undeclared one, NUL and surrogates
      const declared = (b.op.parameters ?? []).filter((x) => x.in === 'query');
      if (declared.length) {
        const base = b.req.path.split('?')[0]!;
        const withQuery = (extra: Record<string, string>) => {
          const q = Object.entries({ ...b.query, ...extra })
            .map(([k, x]) => `${encodeURIComponent(k)}=${x}`)
            .join('&');
          return `${base}?${q}`;
        };
        add(b, 'query unknown', { path: withQuery({ zzUnknown: '1' }) });
        add(b, 'query __proto__', { path: withQuery(Object.fromEntries([['__proto__', 'x']])) });
        for (const p of declared) {
          const s = resolve(p.schema);
          const values = [
            '%00',
            '%ED%A0%80',
            'x%00y',
            '100%',
            encodeURIComponent('x'.repeat(4000)),
          ];
          if (s?.enum) values.push('bogus');
          if (s?.type === 'number' || s?.type === 'integer')
            values.push('1e20', '-1', 'abc', '1.5', '0x10', '99999999999', 'Infinity');
          if (s?.type === 'boolean') values.push('maybe', '1', 'TRUE');
          if (['from', 'to', 'at'].includes(p.name))
            values.push(
              'yesterday',
              '2026-02-30T00:00:00Z',
              '2026-02-01',
              encodeURIComponent('2026-02-01T00:00:00 01:00'),
            );
          if (p.name === 'ente' || p.name === 'unione') values.push('BAD%20CODE', 'c');
          for (const x of values)
            add(b, `query ${p.name}=${x.slice(0, 12)}`, { path: withQuery({ [p.name]: x }) });
          if (p.required) {
            const rest = { ...b.query };
            delete rest[p.name];
            const q = new URLSearchParams(rest).toString();
            add(b, `query ${p.name} missing`, { path: q ? `${base}?${q}` : base });
          }
        }
      }
    }
    const deterministic = broken.length;

    // fast-check: further poisons into random places of the valid requests, up to REQUESTS in all
    const withBody = baselines.filter((b) => b.body !== undefined);
    const leaves = (b: Baseline) => {
      const out: { at: (string | number)[]; schema?: Schema }[] = [];
      const walk = (value: Json, schema: Schema | undefined, at: (string | number)[]) => {
        const s = resolve(schema);
        if (at.length) out.push({ at, schema: s });
        if (value !== null && typeof value === 'object' && !Array.isArray(value))
          for (const [k, c] of Object.entries(value)) walk(c, s?.properties?.[k], [...at, k]);
        else if (Array.isArray(value) && value.length) walk(value[0]!, s?.items, [...at, 0]);
      };
      walk(b.body!, b.bodySchema, []);
      return out;
    };
    const places = withBody.flatMap((b) => leaves(b).map((l) => ({ b, ...l })));
    const poison = fc.oneof(
      fc.tuple(fc.string(), fc.string()).map(([a, z]) => `${a}\u0000${z}`),
      fc
        .tuple(fc.string(), fc.integer({ min: 0xd800, max: 0xdfff }))
        .map(([a, u]) => `${a}${String.fromCharCode(u)}${u < 0xdc00 ? 'x' : ''}`),
      fc
        .constantFrom(...PROTO_KEYS)
        .chain((k) =>
          fc
            .jsonValue()
            .map((x) => JSON.parse(`{${JSON.stringify(k)}:${JSON.stringify(x ?? null)}}`) as Json),
        ),
    );
    const wrong = (s: Schema | undefined) =>
      fc.jsonValue({ maxDepth: 3 }).filter((x) => {
        if (x === null || s?.type === undefined) return false;
        const t = Array.isArray(x) ? 'array' : typeof x === 'object' ? 'object' : typeof x;
        if (s.type === 'integer' || s.type === 'number') return t !== 'number';
        return t !== s.type;
      });
    const extra = Math.max(0, REQUESTS - deterministic);
    const draws = fc.sample(
      fc.nat({ max: places.length - 1 }).chain((i) =>
        fc.tuple(
          fc.constant(i),
          // a value of the wrong type only where the schema says the type; a poison anywhere
          places[i]!.schema?.type
            ? fc.oneof(poison, wrong(places[i]!.schema) as fc.Arbitrary<Json>)
            : poison,
        ),
      ),
      { numRuns: extra, seed: SEED },
    );
    for (const [i, value] of draws) {
      const p = places[i]!;
      add(p.b, `random ${p.at.join('.')}=${JSON.stringify(value).slice(0, 30)}`, {
        body: setAt(p.b.body!, p.at, value),
      });
    }

    if (process.env['FUZZ_VERBOSE'])
      console.log(`fuzz: ${deterministic} deterministic + ${draws.length} drawn requests`);
    const before = await dbState();
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < broken.length) {
        const r = broken[next++]!;
        const res = await send(r);
        const ok4xx = res.status >= 400 && res.status < 500;
        let code: unknown;
        try {
          code = (JSON.parse(res.text) as { code?: unknown }).code;
        } catch {
          code = undefined;
        }
        if (!ok4xx || !/application\/json/.test(res.type) || typeof code !== 'string')
          failures.push(`${r.label} → ${res.status} ${res.text.slice(0, 160)}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(failures).toEqual([]);
    expect(broken.length).toBeGreaterThanOrEqual(Math.min(REQUESTS, deterministic + extra));
    expect(await dbState()).toEqual(before);
  });
});
