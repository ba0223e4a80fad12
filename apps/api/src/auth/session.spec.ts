import { ConfigError, DEV_JWT_SECRET, loadConfig } from '@app/common';
import { actorFromClaims } from './auth.controller';
import { loadSessionSettings, readCookie, SessionService } from './session';

const prodEnv = {
  NODE_ENV: 'production',
  JWT_JWKS_URL: 'https://idp.example.it/.well-known/jwks.json',
};

describe('console sessions', () => {
  it('development: a session key derived from the development secret, dev sign-in on, no Secure', () => {
    const cfg = loadConfig({ NODE_ENV: 'development', JWT_DEV_SECRET: 'true' });
    expect(cfg.jwtSecret).toBe(DEV_JWT_SECRET);
    const s = loadSessionSettings(cfg, {});
    expect(s.devSignIn).toBe(true);
    expect(s.secure).toBe(false);
    expect(Buffer.from(s.key).toString()).not.toContain(DEV_JWT_SECRET);
  });

  it('production: SESSION_SECRET is required, the dev sign-in is off and the cookie is Secure', () => {
    const cfg = loadConfig(prodEnv);
    expect(() => loadSessionSettings(cfg, {})).toThrow(ConfigError);
    expect(() => loadSessionSettings(cfg, { SESSION_SECRET: 'short' })).toThrow(/SESSION_SECRET/);
    const s = loadSessionSettings(cfg, { SESSION_SECRET: 'x'.repeat(40) });
    expect(s.devSignIn).toBe(false);
    expect(new SessionService(s).cookie('v')).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
  });

  it('OIDC needs a client id and a redirect URI, and valid URLs', () => {
    const cfg = loadConfig({ NODE_ENV: 'development', JWT_DEV_SECRET: 'true' });
    // with OIDC and no development secret, the session secret must be given
    expect(() =>
      loadSessionSettings(loadConfig({ NODE_ENV: 'development', JWT_SECRET: 'y'.repeat(40) }), {
        OIDC_ISSUER: 'https://idp.example.it',
        OIDC_CLIENT_ID: 'iter',
        OIDC_REDIRECT_URI: 'https://iter.example.it/auth/callback',
      }),
    ).toThrow(/SESSION_SECRET is required/);
    expect(() => loadSessionSettings(cfg, { OIDC_ISSUER: 'https://idp.example.it' })).toThrow(
      /OIDC_CLIENT_ID.*|OIDC_REDIRECT_URI/s,
    );
    expect(() =>
      loadSessionSettings(cfg, {
        OIDC_ISSUER: 'not a url',
        OIDC_CLIENT_ID: 'iter',
        OIDC_REDIRECT_URI: 'https://iter.example.it/auth/callback',
      }),
    ).toThrow(/OIDC_ISSUER: not a valid URL/);
    const s = loadSessionSettings(cfg, {
      OIDC_ISSUER: 'https://idp.example.it',
      OIDC_CLIENT_ID: 'iter',
      OIDC_REDIRECT_URI: 'https://iter.example.it/auth/callback',
    });
    expect(s.oidc).toMatchObject({ clientId: 'iter', scope: 'openid profile', clientSecret: null });
  });

  it('a session token round-trips; a tampered one is refused', async () => {
    const svc = new SessionService(
      loadSessionSettings(loadConfig({ NODE_ENV: 'development', JWT_DEV_SECRET: 'true' }), {}),
    );
    const actor = {
      subject: 'segretario.c_g843',
      name: 'Segretario',
      roles: ['segretario' as const],
      ente: 'c_g843',
      unione: 'u_valdera',
    };
    const token = await svc.issue(actor, 'dev');
    await expect(svc.verify(token)).resolves.toEqual(actor);
    await expect(svc.verify(`${token.slice(0, -2)}xx`)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('reads one cookie from a Cookie header', () => {
    expect(readCookie('a=1; iter_session=abc%3D; b=2', 'iter_session')).toBe('abc=');
    expect(readCookie('a=1', 'iter_session')).toBeNull();
    expect(readCookie(undefined, 'iter_session')).toBeNull();
    expect(readCookie('iter_session=%E0%A4%A', 'iter_session')).toBeNull();
  });

  it('maps the provider’s claims to an actor; a user without an Iter role is refused', () => {
    expect(
      actorFromClaims({
        sub: 'TINIT-RSSMRA80A01H501U',
        given_name: 'Mario',
        family_name: 'Rossi',
        roles: ['segretario', 'system', 'boss'],
        ente: 'c_g843',
        unione: 'u_valdera',
      }),
    ).toEqual({
      subject: 'TINIT-RSSMRA80A01H501U',
      name: 'Mario Rossi',
      roles: ['segretario'],
      ente: 'c_g843',
      unione: 'u_valdera',
    });
    expect(() => actorFromClaims({ sub: 'x', roles: ['system'] })).toThrow(/ruolo/);
  });
});
