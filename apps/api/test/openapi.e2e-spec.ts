import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { createIterClient, type components } from '@app/api-client';
import { validatePayload } from '@app/engine';
import { defaultRegistry } from '@app/workflows';
import { API_EXAMPLES } from '../src/openapi/examples';
import { startHarness, type Harness } from '../../../test/support/harness';

/**
 * The contract (issue 10): the document served at /docs-json is what libs/api-client was generated from, a maintained
 * OpenAPI linter (Redocly CLI, recommended rules) finds nothing in it, every operation is one a generated client can
 * use, the event bodies come from the definition registry, the examples are accepted, and the typed client generated
 * from it drives a scenario against the real API.
 */
const ROOT = join(__dirname, '..', '..', '..');
const OPENAPI_JSON = join(ROOT, 'libs', 'api-client', 'openapi.json');
const SCHEMA_TS = join(ROOT, 'libs', 'api-client', 'src', 'schema.d.ts');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const STALE = 'libs/api-client is stale: run `npm run gen:api` and commit the result';

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: unknown[];
  requestBody?: unknown;
  responses: Record<
    string,
    { content?: Record<string, { schema?: { $ref?: string; type?: string } }> }
  >;
}
type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};

describe('OpenAPI contract (e2e)', () => {
  let h: Harness;
  let doc: Doc;
  let tmp: string;
  const registry = defaultRegistry();

  beforeAll(async () => {
    h = await startHarness();
    const res = await h.http().get('/docs-json');
    expect(res.status).toBe(200);
    doc = res.body as Doc;
    tmp = mkdtempSync(join(tmpdir(), 'iter-openapi-'));
  });
  afterAll(async () => {
    rmSync(tmp, { recursive: true, force: true });
    await h.close();
  });

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ path, method, op })),
    );

  it('is the document libs/api-client was generated from (openapi.json and schema.d.ts)', () => {
    expect(JSON.parse(readFileSync(OPENAPI_JSON, 'utf8'))).toEqual(doc);
    const out = join(tmp, 'schema.d.ts');
    execFileSync(bin('openapi-typescript'), [OPENAPI_JSON, '-o', out], { stdio: 'pipe' });
    const same = readFileSync(SCHEMA_TS, 'utf8') === readFileSync(out, 'utf8');
    expect(same ? 'up to date' : STALE).toBe('up to date');
  });

  it('has no error and no warning from Redocly CLI (recommended rules)', () => {
    const file = join(tmp, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    let out: string;
    try {
      out = execFileSync(bin('redocly'), ['lint', file, '--format=json'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      });
    } catch (err) {
      // redocly exits 1 when it finds errors: the report is still on stdout
      out = (err as { stdout: string }).stdout;
    }
    const report = JSON.parse(out) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string; location: { pointer?: string }[] }[];
    };
    expect(
      report.problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`),
    ).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('gives every operation a client-friendly operationId, a summary, a tag, a 2xx schema and the error schema', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining([
        'startProcess',
        'listProcesses',
        'getProcess',
        'sendEvent',
        'getHistory',
        'exportHistory',
        'verifyHistory',
        'getStateAt',
        'listDefinitions',
        'getDefinition',
        'listEntes',
        'registerEnte',
        'listNotifications',
        'markNotificationRead',
        'getHealth',
      ]),
    );
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect({ where, id: op.operationId }).toEqual({
        where,
        id: expect.stringMatching(/^[a-z][A-Za-z]+$/),
      });
      expect({ where, summary: typeof op.summary === 'string' && op.summary.length > 0 }).toEqual({
        where,
        summary: true,
      });
      expect({ where, tags: op.tags?.length }).toEqual({ where, tags: 1 });
      const ok = Object.entries(op.responses).filter(([s]) => /^2\d\d$/.test(s));
      expect({ where, ok: ok.length }).toEqual({ where, ok: 1 });
      const [status, success] = ok[0]!;
      if (status !== '204') {
        const schemas = Object.values(success.content ?? {}).map((c) => c.schema);
        expect({ where, schemas: schemas.length > 0 && schemas.every(Boolean) }).toEqual({
          where,
          schemas: true,
        });
      }
      for (const [s, r] of Object.entries(op.responses)) {
        if (Number(s) < 400 || (path.startsWith('/health') && s === '503')) continue;
        expect({ where, s, schema: r.content?.['application/json']?.schema }).toEqual({
          where,
          s,
          schema: { $ref: '#/components/schemas/ErrorResponseDto' },
        });
      }
      expect({ where, has4xx: Object.keys(op.responses).some((s) => /^4/.test(s)) }).toEqual({
        where,
        has4xx: true,
      });
      // the console's sign-in endpoints answer before anyone is signed in (apps/api/src/auth/auth.controller.ts)
      const publicPaths = [
        '/health',
        '/auth/config',
        '/auth/dev/users',
        '/auth/dev/login',
        '/auth/logout',
      ];
      if (!publicPaths.includes(path) && !path.startsWith('/health'))
        expect({ where, security: op.security }).toEqual({ where, security: [{ bearer: [] }] });
    }
  });

  it('takes oneOf the events of every definition, discriminated by type, each with its payload schema', () => {
    const body = doc.components.schemas['SendEventDto'] as {
      oneOf: { $ref: string }[];
      discriminator: { propertyName: string; mapping: Record<string, string> };
    };
    expect(body.discriminator.propertyName).toBe('type');
    const sendable = registry
      .all()
      .flatMap((d) => Object.entries(d.events))
      .filter(([, e]) => e.scope !== 'system');
    expect(Object.keys(body.discriminator.mapping).sort()).toEqual(
      [...new Set(sendable.map(([t]) => t))].sort(),
    );
    expect(body.oneOf.map((o) => o.$ref).sort()).toEqual(
      Object.values(body.discriminator.mapping).sort(),
    );
    for (const [type, e] of sendable) {
      const name = body.discriminator.mapping[type]!.split('/').pop()!;
      const variant = doc.components.schemas[name] as {
        properties: { type: { enum: string[] }; payload: { $ref?: string } };
      };
      expect(variant.properties.type.enum).toEqual([type]);
      if (e.payload) {
        expect(variant.properties.payload.$ref).toBe(`#/components/schemas/${e.payload.name}`);
        expect(doc.components.schemas[e.payload.name]).toMatchObject({
          type: 'object',
          additionalProperties: false,
        });
      }
    }
    // system (timer) events are refused over HTTP: not offered
    expect(Object.keys(body.discriminator.mapping)).not.toContain('convention.reminder');
  });

  it('reaches every component schema from an operation (no orphans, no dangling $ref)', () => {
    const reached = new Set<string>();
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(visit);
      if (!node || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        if (k === '$ref' && typeof v === 'string') {
          const name = v.replace('#/components/schemas/', '');
          expect(doc.components.schemas).toHaveProperty([name]);
          if (!reached.has(name)) {
            reached.add(name);
            visit(doc.components.schemas[name]);
          }
        } else visit(v);
      }
    };
    visit(doc.paths);
    expect(Object.keys(doc.components.schemas).filter((n) => !reached.has(n))).toEqual([]);
    for (const d of registry.all()) {
      for (const e of Object.values(d.events))
        if (e.payload) expect(reached).toContain(e.payload.name);
    }
  });

  it('lists on every operation the answers the edge gives any request (400, 413, 415), and they happen', async () => {
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      for (const s of ['400', '413', '415'])
        expect({ where, s, listed: s in op.responses }).toEqual({ where, s, listed: true });
    }
    const token = await h.token({ roles: ['admin'], ente: null, unione: null });
    // a route with no query parameters and no body at all still answers both
    const bad = await h.http().get('/v1/definitions?x=%00').set('Authorization', `Bearer ${token}`);
    expect([bad.status, bad.body.code]).toEqual([400, 'INVALID_CHARACTERS']);
    const typed = await h
      .http()
      .get('/v1/definitions')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'text/plain')
      .send('x');
    expect([typed.status, typed.body.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
  });

  it('lists 503 (a dependency down) on every operation and 409 PROCESS_BUSY on every write', async () => {
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect({ where, listed: '503' in op.responses }).toEqual({ where, listed: true });
      if (method === 'get') continue;
      const conflict = op.responses['409'] as { description?: string } | undefined;
      expect({ where, busy: conflict?.description?.includes('PROCESS_BUSY') }).toEqual({
        where,
        busy: true,
      });
    }
    // an operation's own 409 keeps its codes beside PROCESS_BUSY
    const send = operations().find((o) => o.op.operationId === 'sendEvent')!;
    expect((send.op.responses['409'] as { description: string }).description).toMatch(
      /VERSION_CONFLICT.*PROCESS_BUSY/,
    );
  });

  it('answers GET /v1/definitions as its schema says (every event scope, the RTD appointee’s too)', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ ...doc, $id: 'iter' });
    const validate = ajv.compile({
      type: 'array',
      items: { $ref: 'iter#/components/schemas/DefinitionDto' },
    });
    const token = await h.token({ roles: ['admin'], ente: null, unione: null });
    const res = await h.http().get('/v1/definitions').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    const scopes = new Set(
      (res.body as { events: { scope: string }[] }[]).flatMap((d) => d.events.map((e) => e.scope)),
    );
    expect(scopes).toContain('appointee');
    expect(validate(res.body) ? [] : validate.errors).toEqual([]);
  });

  it('lists null in every nullable enum, so a null the API answers validates (OpenAPI 3.0.3)', () => {
    const missing: string[] = [];
    const visit = (node: unknown, at: string): void => {
      if (!node || typeof node !== 'object') return;
      const n = node as { nullable?: boolean; enum?: unknown[] };
      if (n.nullable && Array.isArray(n.enum) && !n.enum.includes(null)) missing.push(at);
      for (const [k, v] of Object.entries(node)) visit(v, `${at}/${k}`);
    };
    visit(doc.components.schemas, '#/components/schemas');
    expect(missing).toEqual([]);
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ ...doc, $id: 'iter' });
    const validate = ajv.getSchema('iter#/components/schemas/DeliveryItemDto')!;
    const pending = {
      id: '7c0f3a52-4a0e-4f7e-9d51-000000000001',
      instanceId: '7c0f3a52-4a0e-4f7e-9d51-000000000002',
      eventSeq: 7,
      tenant: 'u_valdera',
      channel: 'webhook',
      template: 'convention.deadline-extended',
      recipientEnte: 'u_valdera',
      recipientRole: 'webhook',
      status: 'pending',
      attempts: 1,
      lastError: null,
      nextAttemptAt: null,
      messageId: null,
      pecStatus: null,
      pecDeliveredAt: null,
      createdAt: '2026-12-01T18:24:36.424Z',
      updatedAt: '2026-12-01T18:24:36.424Z',
      deliveredAt: null,
    };
    expect(validate(pending) ? [] : validate.errors).toEqual([]);
  });

  it('has examples from the fixtures that the engine and the schemas both accept', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ ...doc, $id: 'iter' });
    const schemaOk = (name: string, value: unknown) => {
      const validate = ajv.getSchema(`iter#/components/schemas/${name}`)!;
      return validate(value) ? [] : (validate.errors ?? []);
    };
    const convenzione = registry.latest('convenzione');
    for (const [type, e] of Object.entries(convenzione.events)) {
      if (e.scope === 'system') continue;
      const example = API_EXAMPLES.events[type];
      expect({ type, example: example !== undefined }).toEqual({ type, example: true });
      await expect(validatePayload(e.payload, example, 'payload')).resolves.toBeUndefined();
      expect({ type, errors: schemaOk(e.payload!.name, example) }).toEqual({ type, errors: [] });
      expect({ type, errors: schemaOk('SendEventDto', { type, payload: example }) }).toEqual({
        type,
        errors: [],
      });
    }
    for (const [key, start] of Object.entries(API_EXAMPLES.inputs)) {
      await expect(
        validatePayload(registry.latest(key).input, start.input, 'input'),
      ).resolves.toBeUndefined();
      expect(schemaOk('CreateProcessDto', { definition: key, ...start })).toEqual([]);
    }
    // and the schemas refuse what the engine refuses
    expect(
      schemaOk('SendEventDto', { type: 'convention.freeze', payload: { text: 'x', extra: 1 } }),
    ).not.toEqual([]);
    expect(
      schemaOk('SendEventDto', {
        type: 'convention.reminder',
        payload: { ente: 'c_g843', daysBefore: 1 },
      }),
    ).not.toEqual([]);
  });

  it('drives a Valdera scenario with the typed client generated from the document', async () => {
    await h.app.listen(0, '127.0.0.1');
    const { port } = h.app.getHttpServer().address() as AddressInfo;
    const baseUrl = `http://127.0.0.1:${port}`;
    const start = API_EXAMPLES.inputs['convenzione']!;
    const unione = start.input['unione'] as string;
    const ex = API_EXAMPLES.events;
    const pontedera = ex['convention.deliberation.record']!['ente'] as string;
    const presidente = createIterClient({
      baseUrl,
      token: await h.token({
        roles: ['presidente'],
        ente: unione,
        unione,
        sub: 'presidente.valdera',
      }),
    });
    const segretario = createIterClient({
      baseUrl,
      token: await h.token({ roles: ['segretario'], ente: pontedera, unione, sub: 'seg.g843' }),
    });

    h.clock.set(new Date('2026-02-27T09:00:00Z'));
    const started = await presidente.POST('/v1/processes', {
      body: {
        definition: 'convenzione',
        businessKey: `openapi-${Date.now()}`,
        input: start.input as components['schemas']['StartConventionDto'],
      },
    });
    expect(started.response.status).toBe(201);
    const id = started.data!.id;
    const send = (client: typeof presidente, body: components['schemas']['SendEventDto']) =>
      client.POST('/v1/processes/{id}/events', { params: { path: { id } }, body });

    h.clock.set(new Date('2026-03-01T09:00:00Z'));
    const freeze = ex['convention.freeze'] as components['schemas']['FreezeTextDto'];
    expect(
      (await send(presidente, { type: 'convention.freeze', payload: freeze })).data?.state,
    ).toBe('FROZEN');
    h.clock.set(new Date('2026-03-02T10:00:00Z'));
    const sent = await send(presidente, {
      type: 'convention.send',
      payload: ex['convention.send'] as components['schemas']['SendToCouncilsDto'],
    });
    expect(sent.data?.state).toBe('IN_DELIBERATION');

    // a refusal arrives typed as the error schema
    const sindaco = createIterClient({
      baseUrl,
      token: await h.token({ roles: ['sindaco'], ente: pontedera, unione, sub: 'sindaco.g843' }),
    });
    const early = await send(sindaco, {
      type: 'convention.sign',
      payload: ex['convention.sign'] as components['schemas']['SignConventionDto'],
    });
    expect(early.response.status).toBe(409);
    expect(early.error?.code).toBe('TRANSITION_NOT_ALLOWED');

    h.clock.set(new Date('2026-03-12T10:00:00Z'));
    expect(
      (
        await send(segretario, {
          type: 'convention.council.convene',
          payload: ex['convention.council.convene'] as components['schemas']['ConveneCouncilDto'],
        })
      ).response.status,
    ).toBe(200);
    h.clock.set(new Date('2026-03-20T18:00:00Z'));
    const deliberated = await send(segretario, {
      type: 'convention.deliberation.record',
      payload: ex[
        'convention.deliberation.record'
      ] as components['schemas']['RecordDeliberationDto'],
    });
    expect(deliberated.response.status).toBe(200);

    const view = await segretario.GET('/v1/processes/{id}', { params: { path: { id } } });
    expect(view.data).toMatchObject({ id, state: 'IN_DELIBERATION', version: 5 });
    const list = await presidente.GET('/v1/processes', { params: { query: { limit: 200 } } });
    expect(list.data?.items.map((p) => p.id)).toContain(id);
    const history = await presidente.GET('/v1/processes/{id}/history', {
      params: { path: { id } },
    });
    expect(history.data?.map((e) => e.type)).toEqual([
      'process.started',
      'convention.freeze',
      'convention.send',
      'convention.council.convene',
      'convention.deliberation.record',
    ]);
    const verify = await presidente.GET('/v1/processes/{id}/history/verify', {
      params: { path: { id } },
    });
    expect(verify.data).toMatchObject({ valid: true, events: 5 });
    const missing = await presidente.GET('/v1/processes/{id}', {
      params: { path: { id: '00000000-0000-4000-8000-000000000000' } },
    });
    expect(missing.error?.code).toBe('PROCESS_NOT_FOUND');
  });
});
