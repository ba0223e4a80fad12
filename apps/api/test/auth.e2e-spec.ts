import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import { DEV_JWT_SECRET } from '@app/common';
import { startHarness, testConfig, type Harness } from '../../../test/support/harness';
import { unione } from '../../../test/support/scenario';

/**
 * Issue #5, authentication and hardening: which tokens get in (HS256 in development, RS256/ES256 from a
 * JWKS in production), which get 401 UNAUTHENTICATED, that nothing but /health and /docs answers without
 * one, and the HTTP hardening: rate limit (429), security headers, body size limit (413), CORS by env.
 */
const v = unione('valdera');
const ANY_ID = '7c0f3a52-4a0e-4f7e-9d51-000000000000';
const enc = (s: string) => new TextEncoder().encode(s);
const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const CLAIMS = { roles: ['presidente'], ente: v.ipa, unione: v.ipa };

interface SignOpts {
  alg?: string;
  kid?: string;
  claims?: Record<string, unknown>;
  sub?: string | null;
  exp?: number | null;
  iss?: string;
  aud?: string;
}

/** A token signed with `key`; every claim can be left out or altered to build the bad ones. */
async function sign(key: KeyLike | Uint8Array, o: SignOpts = {}): Promise<string> {
  const jwt = new SignJWT(o.claims ?? CLAIMS).setProtectedHeader({
    alg: o.alg ?? 'HS256',
    typ: 'JWT',
    ...(o.kid ? { kid: o.kid } : {}),
  });
  jwt.setIssuedAt();
  if (o.sub !== null) jwt.setSubject(o.sub ?? 'pres.valdera');
  if (o.exp !== null) jwt.setExpirationTime(o.exp ?? now() + 300);
  if (o.iss) jwt.setIssuer(o.iss);
  if (o.aud) jwt.setAudience(o.aud);
  return jwt.sign(key);
}

/** `alg: none`: a header, a payload, an empty signature. */
const unsecured = (
  payload: Record<string, unknown> = { sub: 'pres.valdera', exp: now() + 300, ...CLAIMS },
) => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;

async function expect401(h: Harness, token: string | null, path = '/v1/processes') {
  const req = h.http().get(path);
  if (token !== null) req.set('Authorization', `Bearer ${token}`);
  const res = await req;
  expect(res.status).toBe(401);
  expect(res.body.code).toBe('UNAUTHENTICATED');
  expect(typeof res.body.message).toBe('string');
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="iter"/);
  return res;
}

describe('authentication with the HS256 development secret (e2e)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('accepts a valid token', async () => {
    const res = await h
      .http()
      .get('/v1/processes')
      .set('Authorization', `Bearer ${await sign(enc(DEV_JWT_SECRET))}`);
    expect(res.status).toBe(200);
    // the scheme is case-insensitive (RFC 7235)
    const lower = await h
      .http()
      .get('/v1/processes')
      .set('Authorization', `bearer ${await sign(enc(DEV_JWT_SECRET))}`);
    expect(lower.status).toBe(200);
  });

  it('refuses a missing header or another scheme', async () => {
    const res = await expect401(h, null);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="iter"');
    const basic = await h.http().get('/v1/processes').set('Authorization', 'Basic cHJlczpwcmVz');
    expect(basic.status).toBe(401);
    expect(basic.body.code).toBe('UNAUTHENTICATED');
    const empty = await h.http().get('/v1/processes').set('Authorization', 'Bearer ');
    expect(empty.status).toBe(401);
  });

  it.each([
    ['not a JWT at all', 'abc'],
    ['three garbage segments', 'not.a.token'],
    [
      'a header that is not JSON',
      `${Buffer.from('{{').toString('base64url')}.${b64url({ sub: 'x' })}.c2ln`,
    ],
    ['two segments', `${b64url({ alg: 'HS256' })}.${b64url({ sub: 'x' })}`],
  ])('refuses a malformed token: %s', async (_, token) => {
    const res = await expect401(h, token);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('refuses an expired token, saying so', async () => {
    const res = await expect401(h, await sign(enc(DEV_JWT_SECRET), { exp: now() - 60 }));
    expect(res.body.message).toMatch(/scaduto/);
  });

  it('refuses a token without exp', async () => {
    await expect401(h, await sign(enc(DEV_JWT_SECRET), { exp: null }));
  });

  it('refuses a token signed with another secret', async () => {
    await expect401(h, await sign(enc('another-secret-another-secret-another-secret')));
  });

  it('refuses a token whose payload was altered after signing', async () => {
    const good = await sign(enc(DEV_JWT_SECRET), {
      claims: { roles: ['segretario'], ente: v.comuni[0], unione: v.ipa },
    });
    const [head, , sig] = good.split('.') as [string, string, string];
    const forged = `${head}.${b64url({ sub: 'pres.valdera', exp: now() + 300, ...CLAIMS })}.${sig}`;
    await expect401(h, forged);
  });

  it('refuses alg: none, with or without a signature segment', async () => {
    const res = await expect401(h, unsecured());
    expect(res.body.message).toMatch(/algoritmo/);
    await expect401(h, `${unsecured()}c2ln`);
  });

  it('refuses HS512 even with the right secret: only HS256 is accepted for a shared secret', async () => {
    await expect401(h, await sign(enc(DEV_JWT_SECRET), { alg: 'HS512' }));
  });

  it.each([
    ['no roles claim', { ente: v.ipa, unione: v.ipa }],
    ['an empty roles list', { roles: [], ente: v.ipa, unione: v.ipa }],
    ['only unknown roles', { roles: ['root', 'superuser'], ente: v.ipa, unione: v.ipa }],
    ['roles as a string, not a list', { roles: 'presidente', ente: v.ipa, unione: v.ipa }],
    [
      'the system role: never grantable by a token',
      { roles: ['system'], ente: null, unione: null },
    ],
  ])('refuses a token with %s', async (_, claims) => {
    const res = await expect401(h, await sign(enc(DEV_JWT_SECRET), { claims }));
    expect(res.body.message).toMatch(/ruolo/);
  });

  it('refuses a token without a subject, or with a subject that is not a string', async () => {
    await expect401(h, await sign(enc(DEV_JWT_SECRET), { sub: null }));
    // jose checks that sub is present, not that it is a string: the verifier does
    const claims: Record<string, unknown> = { ...CLAIMS, sub: 42 };
    const numeric = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now() + 300)
      .sign(enc(DEV_JWT_SECRET));
    await expect401(h, numeric);
    await expect401(h, await sign(enc(DEV_JWT_SECRET), { sub: '' }));
    await expect401(h, await sign(enc(DEV_JWT_SECRET), { sub: 'x'.repeat(201) }));
  });

  it('checks iss and aud only when configured (see the next describe)', async () => {
    const res = await h
      .http()
      .get('/v1/processes')
      .set(
        'Authorization',
        `Bearer ${await sign(enc(DEV_JWT_SECRET), { iss: 'https://elsewhere', aud: 'other' })}`,
      );
    expect(res.status).toBe(200);
  });

  it('answers every route but /health and the OpenAPI docs without a token with 401 (routes read from the router)', async () => {
    const all = registeredRoutes(h);
    // /docs, /docs-json, /docs-yaml and Swagger UI's assets are public by design
    const routes = all.filter((r) => !/^\/docs([-/]|$)/.test(r.path));
    expect(all.length - routes.length).toBeGreaterThanOrEqual(3);
    expect(routes.length).toBeGreaterThanOrEqual(12);
    const open: string[] = [];
    for (const { method, path } of routes) {
      const url = path
        .replace(/:id/g, ANY_ID)
        .replace(/:key/g, 'convenzione')
        .replace(/:[a-zA-Z]+/g, 'x');
      const res = await h
        .http()
        [method](url)
        .send(method === 'post' ? { type: 'convention.freeze' } : undefined);
      if (res.status !== 401) open.push(`${method.toUpperCase()} ${path} → ${res.status}`);
      else expect(res.body.code).toBe('UNAUTHENTICATED');
    }
    // the console's sign-in routes answer before anyone is signed in (apps/api/src/auth/auth.controller.ts): the
    // sign-in methods, the development users (this harness runs with the development secret), the development
    // sign-in (400: no such user), sign-out (403: without the console's CSRF header) and OIDC (403: no provider)
    expect(open).toEqual([
      'GET /health → 200',
      'GET /health/live → 200',
      'GET /health/ready → 200',
      'GET /auth/config → 200',
      'GET /auth/dev/users → 200',
      'POST /auth/dev/login → 400',
      'POST /auth/logout → 403',
      'GET /auth/login → 403',
      'GET /auth/callback → 403',
    ]);
  });

  it('serves /docs and /docs-json without a token', async () => {
    const docs = await h.http().get('/docs/');
    expect(docs.status).toBe(200);
    expect(docs.text).toMatch(/swagger/i);
    const json = await h.http().get('/docs-json');
    expect(json.status).toBe(200);
    expect(json.body.openapi).toMatch(/^3\./);
    expect(Object.keys(json.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/processes/{id}/state',
        '/v1/processes/{id}/history/export',
        '/v1/processes/{id}/history/verify',
      ]),
    );
  });
});

describe('issuer and audience, when configured (e2e)', () => {
  let h: Harness;
  const ISS = 'https://login.iter.test';
  const AUD = 'iter-api';
  beforeAll(async () => {
    h = await startHarness({ config: testConfig({ JWT_ISSUER: ISS, JWT_AUDIENCE: AUD }) });
  });
  afterAll(async () => h.close());

  it('accepts the right iss and aud', async () => {
    const res = await h
      .http()
      .get('/v1/processes')
      .set('Authorization', `Bearer ${await sign(enc(DEV_JWT_SECRET), { iss: ISS, aud: AUD })}`);
    expect(res.status).toBe(200);
  });

  it.each([
    ['a wrong issuer', { iss: 'https://evil.test', aud: AUD }, /iss/],
    ['no issuer', { aud: AUD }, /iss/],
    ['a wrong audience', { iss: ISS, aud: 'another-api' }, /aud/],
    ['no audience', { iss: ISS }, /aud/],
  ])('refuses %s', async (_, o, claim) => {
    const res = await expect401(h, await sign(enc(DEV_JWT_SECRET), o));
    expect(res.body.message).toMatch(claim);
  });
});

describe('authentication against a JWKS (RS256/ES256, an OIDC provider) (e2e)', () => {
  let h: Harness;
  let server: Server;
  let jwksHits = 0;
  let rsa: { publicKey: KeyLike; privateKey: KeyLike };
  let ec: { publicKey: KeyLike; privateKey: KeyLike };
  let stranger: { publicKey: KeyLike; privateKey: KeyLike };
  let rsaJwk: JWK;
  const ISS = 'https://idp.iter.test';
  const AUD = 'iter-api';

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256');
    ec = await generateKeyPair('ES256');
    stranger = await generateKeyPair('RS256');
    rsaJwk = { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' };
    const keys = [
      rsaJwk,
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ];
    server = createServer((req, res) => {
      if (req.url !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      jwksHits++;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    h = await startHarness({
      config: testConfig({
        JWT_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
        JWT_ISSUER: ISS,
        JWT_AUDIENCE: AUD,
      }),
    });
    expect(h.config.jwtSecret).toBeNull(); // with a JWKS there is no shared secret at all
  });
  afterAll(async () => {
    await h.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const get = async (token: string) =>
    h.http().get('/v1/processes').set('Authorization', `Bearer ${token}`);

  it('accepts RS256 and ES256 tokens signed by the provider’s keys, fetching its JWKS', async () => {
    expect(
      (await get(await sign(rsa.privateKey, { alg: 'RS256', kid: 'rsa-1', iss: ISS, aud: AUD })))
        .status,
    ).toBe(200);
    expect(
      (await get(await sign(ec.privateKey, { alg: 'ES256', kid: 'ec-1', iss: ISS, aud: AUD })))
        .status,
    ).toBe(200);
    expect(jwksHits).toBeGreaterThanOrEqual(1);
  });

  it('reads roles and scope from the provider’s token', async () => {
    const token = await sign(rsa.privateKey, {
      alg: 'RS256',
      kid: 'rsa-1',
      iss: ISS,
      aud: AUD,
      claims: { roles: ['auditor'], ente: v.ipa, unione: v.ipa, name: 'Anna Revisori' },
    });
    const res = await h
      .http()
      .post('/v1/processes')
      .set('Authorization', `Bearer ${token}`)
      .send({
        definition: 'convenzione',
        input: { title: 'x', unione: v.ipa, members: v.comuni.slice(0, 1) },
      });
    expect(res.status).toBe(403); // authenticated as an auditor, who may not start a process
    expect(res.body.code).toBe('FORBIDDEN');
  });

  it('refuses a token signed by a key that is not in the JWKS, even with a known kid', async () => {
    await expect401(
      h,
      await sign(stranger.privateKey, { alg: 'RS256', kid: 'rsa-1', iss: ISS, aud: AUD }),
    );
    await expect401(
      h,
      await sign(stranger.privateKey, { alg: 'RS256', kid: 'unknown-kid', iss: ISS, aud: AUD }),
    );
  });

  it('refuses an expired provider token', async () => {
    const res = await expect401(
      h,
      await sign(rsa.privateKey, {
        alg: 'RS256',
        kid: 'rsa-1',
        iss: ISS,
        aud: AUD,
        exp: now() - 60, // beyond the 30 s clock skew tolerated by default
      }),
    );
    expect(res.body.message).toMatch(/scaduto/);
  });

  it('refuses the wrong issuer or audience', async () => {
    await expect401(
      h,
      await sign(rsa.privateKey, {
        alg: 'RS256',
        kid: 'rsa-1',
        iss: 'https://other-idp.test',
        aud: AUD,
      }),
    );
    await expect401(
      h,
      await sign(rsa.privateKey, { alg: 'RS256', kid: 'rsa-1', iss: ISS, aud: 'other-api' }),
    );
  });

  it('refuses HS256 tokens: the development secret is not a key here, nor is the provider’s public key', async () => {
    await expect401(h, await sign(enc(DEV_JWT_SECRET), { iss: ISS, aud: AUD }));
    // algorithm confusion: an HMAC keyed with the public key's bytes
    await expect401(
      h,
      await sign(enc(JSON.stringify(rsaJwk)), { alg: 'HS256', kid: 'rsa-1', iss: ISS, aud: AUD }),
    );
  });

  it('refuses alg: none', async () => {
    await expect401(h, unsecured({ sub: 'x', exp: now() + 300, iss: ISS, aud: AUD, ...CLAIMS }));
  });

  it('refuses a provider token without roles', async () => {
    const res = await expect401(
      h,
      await sign(rsa.privateKey, {
        alg: 'RS256',
        kid: 'rsa-1',
        iss: ISS,
        aud: AUD,
        claims: { ente: v.ipa },
      }),
    );
    expect(res.body.message).toMatch(/ruolo/);
  });
});

describe('authentication when the JWKS cannot be fetched (e2e)', () => {
  let h: Harness;
  beforeAll(async () => {
    // a port nobody listens on: bind one, note it, close it
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    h = await startHarness({
      config: testConfig({ JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` }),
    });
  });
  afterAll(async () => h.close());

  it('refuses every token with 401, saying the provider’s JWKS does not answer', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const res = await expect401(h, await sign(privateKey, { alg: 'RS256', kid: 'rsa-1' }));
    expect(res.body.message).toMatch(/JWKS/);
  });
});

describe('hardening: headers, body limit, CORS (e2e)', () => {
  let h: Harness;
  const ALLOWED = 'https://iter.unione-valdera.example';
  beforeAll(async () => {
    h = await startHarness({
      config: testConfig({ BODY_LIMIT: '1kb', CORS_ORIGINS: `${ALLOWED},https://other.example` }),
    });
  });
  afterAll(async () => h.close());

  it('sets security headers (helmet) and hides the framework, on success and on errors', async () => {
    for (const res of [await h.http().get('/health'), await h.http().get('/v1/processes')]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('refuses a body over BODY_LIMIT with 413 PAYLOAD_TOO_LARGE, as JSON, before looking at the token', async () => {
    const token = await h.token({ roles: ['presidente'], ente: v.ipa, unione: v.ipa });
    const big = {
      definition: 'convenzione',
      input: { title: 'x'.repeat(2048), unione: v.ipa, members: v.comuni },
    };
    const res = await h
      .http()
      .post('/v1/processes')
      .set('Authorization', `Bearer ${token}`)
      .send(big);
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    const anonymous = await h.http().post('/v1/processes').send(big);
    expect(anonymous.status).toBe(413);
    // just under the limit goes through to validation and the engine
    const small = await h
      .http()
      .post('/v1/processes')
      .set('Authorization', `Bearer ${token}`)
      .send({
        definition: 'convenzione',
        input: { title: 'x'.repeat(500), unione: v.ipa, members: ['NOT VALID'] },
      });
    expect(small.status).toBe(400);
    expect(small.body.code).toBe('VALIDATION_FAILED');
  });

  it('answers CORS for the configured origins only', async () => {
    const allowed = await h.http().get('/health').set('Origin', ALLOWED);
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(allowed.headers['access-control-expose-headers']).toMatch(/ETag/);
    const other = await h.http().get('/health').set('Origin', 'https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await h
      .http()
      .options('/v1/processes')
      .set('Origin', ALLOWED)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type,if-match');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(preflight.headers['access-control-allow-methods']).toMatch(/POST/);
    const evilPreflight = await h
      .http()
      .options('/v1/processes')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(evilPreflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('hardening: CORS is off unless configured (e2e)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('sends no Access-Control-Allow-Origin to any origin', async () => {
    const res = await h.http().get('/health').set('Origin', 'https://iter.unione-valdera.example');
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('hardening: rate limit (e2e)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: testConfig({ RATE_LIMIT_PER_MINUTE: '3' }) });
  });
  afterAll(async () => h.close());

  it('answers 429 RATE_LIMITED as JSON with Retry-After once a client goes over RATE_LIMIT_PER_MINUTE', async () => {
    const token = await h.token({ roles: ['presidente'], ente: v.ipa, unione: v.ipa });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push(
        (await h.http().get('/v1/processes').set('Authorization', `Bearer ${token}`)).status,
      );
    expect(statuses).toEqual([200, 200, 200]);
    const res = await h.http().get('/v1/processes').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(429);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body.code).toBe('RATE_LIMITED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    // the limit is checked before the token: an anonymous flood is limited too, not only answered 401
    const anonymous = await h.http().get('/v1/processes');
    expect(anonymous.status).toBe(429);
  });
});

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Every route the API's Express router serves (Express 5: app.router.stack). */
function registeredRoutes(h: Harness): { method: Method; path: string }[] {
  const express = h.app.getHttpAdapter().getInstance() as {
    router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
  };
  const out: { method: Method; path: string }[] = [];
  for (const layer of express.router.stack) {
    if (!layer.route) continue;
    for (const [m, on] of Object.entries(layer.route.methods)) {
      if (on && ['get', 'post', 'put', 'patch', 'delete'].includes(m))
        out.push({ method: m as Method, path: layer.route.path });
    }
  }
  return out;
}
