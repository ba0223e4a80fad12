import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

/**
 * Console sign-in through OpenID Connect (authorization code + PKCE) against a real HTTP identity provider: the API
 * runs as a child process (openid-client is an ES module, which Node loads from CommonJS but jest's module system
 * does not), the provider is a small OIDC server in this test that checks the PKCE verifier against the challenge.
 */
const ROOT = join(__dirname, '..', '..');
const CLIENT_ID = 'iter-console';

interface Grant {
  challenge: string;
  nonce: string;
  redirectUri: string;
  claims: Record<string, unknown>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const b64url = (b: Buffer) => b.toString('base64url');

describe('console: OpenID Connect sign-in (code + PKCE)', () => {
  let idp: Server;
  let issuer: string;
  let api: ChildProcess;
  let base: string;
  let out = '';
  const grants = new Map<string, Grant>();
  let nextClaims: Record<string, unknown> = {};
  let tokenRequests = 0;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    idp = createServer((req, res) => {
      const url = new URL(req.url ?? '/', issuer);
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/.well-known/openid-configuration') {
        return json(200, {
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['none'],
        });
      }
      if (url.pathname === '/jwks') return json(200, { keys: [jwk] });
      if (url.pathname === '/authorize') {
        const q = url.searchParams;
        if (
          q.get('client_id') !== CLIENT_ID ||
          q.get('response_type') !== 'code' ||
          q.get('code_challenge_method') !== 'S256' ||
          !q.get('code_challenge') ||
          !q.get('nonce')
        )
          return json(400, { error: 'invalid_request' });
        const code = b64url(randomBytes(16));
        grants.set(code, {
          challenge: q.get('code_challenge')!,
          nonce: q.get('nonce')!,
          redirectUri: q.get('redirect_uri')!,
          claims: nextClaims,
        });
        const back = new URL(q.get('redirect_uri')!);
        back.searchParams.set('code', code);
        back.searchParams.set('state', q.get('state') ?? '');
        res.writeHead(302, { location: back.toString() });
        return res.end();
      }
      if (url.pathname === '/token' && req.method === 'POST') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          tokenRequests++;
          const p = new URLSearchParams(body);
          const g = grants.get(p.get('code') ?? '');
          grants.delete(p.get('code') ?? '');
          const verifier = p.get('code_verifier') ?? '';
          if (
            !g ||
            p.get('grant_type') !== 'authorization_code' ||
            p.get('redirect_uri') !== g.redirectUri ||
            b64url(createHash('sha256').update(verifier).digest()) !== g.challenge
          )
            return json(400, { error: 'invalid_grant' });
          void new SignJWT({ ...g.claims, nonce: g.nonce })
            .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
            .setIssuer(issuer)
            .setAudience(CLIENT_ID)
            .setIssuedAt()
            .setExpirationTime('5m')
            .sign(privateKey)
            .then((idToken) =>
              json(200, {
                access_token: b64url(randomBytes(16)),
                token_type: 'Bearer',
                expires_in: 300,
                id_token: idToken,
              }),
            );
        });
        return;
      }
      json(404, { error: 'not_found' });
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'apps/api/src/main.ts',
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env['PATH'],
          HOME: process.env['HOME'],
          NO_COLOR: '1',
          TS_NODE_PROJECT: 'tsconfig.json',
          TS_NODE_TRANSPILE_ONLY: 'true',
          NODE_ENV: 'test',
          HOST: '127.0.0.1',
          PORT: String(port),
          DATABASE_URL: process.env['ITER_TEST_DATABASE_URL'],
          DATABASE_POOL_SIZE: '2',
          REDIS_URL: process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
          REDIS_PREFIX: `${process.env['ITER_TEST_REDIS_PREFIX']}-oidc`,
          MIGRATIONS_RUN: 'false',
          JWT_SECRET: 'not-the-development-secret-but-long-enough',
          SESSION_SECRET: 'a-session-secret-for-this-test-only-0123',
          OIDC_ISSUER: issuer,
          OIDC_CLIENT_ID: CLIENT_ID,
          OIDC_REDIRECT_URI: `${base}/auth/callback`,
        },
      },
    );
    api.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    api.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`API did not start:\n${out}`)), 90_000);
      const poll = setInterval(() => {
        if (out.includes('Iter API on')) {
          clearTimeout(t);
          clearInterval(poll);
          resolve();
        } else if (api.exitCode !== null) {
          clearTimeout(t);
          clearInterval(poll);
          reject(new Error(`API exited:\n${out}`));
        }
      }, 100);
    });
  }, 120_000);

  afterAll(async () => {
    if (api && api.exitCode === null) {
      const done = new Promise((r) => api.once('exit', r));
      api.kill('SIGTERM');
      await done;
    }
    await new Promise((r) => idp?.close(r));
  });

  const cookieOf = (res: Response, name: string): string | null => {
    const c = res.headers.getSetCookie().find((x) => x.startsWith(`${name}=`));
    return c ?? null;
  };

  /** the browser's part: /auth/login → provider → /auth/callback, following the redirects by hand */
  async function signIn(claims: Record<string, unknown>, tamper?: (u: URL) => void) {
    nextClaims = claims;
    const login = await fetch(`${base}/auth/login`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const authorize = new URL(login.headers.get('location')!);
    expect(authorize.origin + authorize.pathname).toBe(`${issuer}/authorize`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    const tx = cookieOf(login, 'iter_oidc_tx')!;
    expect(tx).toMatch(/HttpOnly/);
    expect(tx).toMatch(/SameSite=Lax/);
    const back = await fetch(authorize, { redirect: 'manual' });
    expect(back.status).toBe(302);
    const callback = new URL(back.headers.get('location')!);
    tamper?.(callback);
    return fetch(callback, {
      redirect: 'manual',
      headers: { cookie: tx.split(';')[0]! },
    });
  }

  it('signs in through the provider: the session cookie carries the ID token’s roles, ente and unione', async () => {
    expect(await (await fetch(`${base}/auth/config`)).json()).toEqual({
      devSignIn: false,
      oidc: true,
    });
    const res = await signIn({
      sub: 'TINIT-RSSMRA80A01G843X',
      name: 'Mario Rossi',
      roles: ['segretario'],
      ente: 'c_g843',
      unione: 'u_valdera',
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/');
    const session = cookieOf(res, 'iter_session')!;
    expect(session).toMatch(/HttpOnly; SameSite=Strict/);
    const me = await fetch(`${base}/auth/me`, { headers: { cookie: session.split(';')[0]! } });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({
      subject: 'TINIT-RSSMRA80A01G843X',
      name: 'Mario Rossi',
      roles: ['segretario'],
      ente: 'c_g843',
      unione: 'u_valdera',
    });
  });

  it('a callback whose state was altered, or without the login’s cookie, gets no session', async () => {
    const before = tokenRequests;
    const res = await signIn({ sub: 'x', roles: ['segretario'] }, (u) =>
      u.searchParams.set('state', 'forged'),
    );
    expect(res.status).toBe(401);
    expect(cookieOf(res, 'iter_session')).toBeNull();
    expect(tokenRequests).toBe(before); // refused before the code was ever redeemed
    const noCookie = await fetch(`${base}/auth/callback?code=abc&state=def`, {
      redirect: 'manual',
    });
    expect(noCookie.status).toBe(401);
    expect(((await noCookie.json()) as { code: string }).code).toBe('UNAUTHENTICATED');
  });

  it('a provider user without an Iter role is refused', async () => {
    const res = await signIn({ sub: 'TINIT-XYZ', roles: ['citizen'] });
    expect(res.status).toBe(401);
    expect(cookieOf(res, 'iter_session')).toBeNull();
  });

  it('the development sign-in is not available', async () => {
    const res = await fetch(`${base}/auth/dev/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-requested-with': 'iter-console' },
      body: JSON.stringify({ user: 'presidente.u_valdera' }),
    });
    expect(res.status).toBe(403);
  });
});
