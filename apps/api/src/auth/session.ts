import { createHmac, randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import {
  ConfigError,
  DEV_JWT_SECRET,
  ROLES,
  UnauthenticatedError,
  type Actor,
  type IterConfig,
  type Role,
} from '@app/common';

/**
 * The console's session: an httpOnly cookie holding a short-lived HS256 JWT signed with a key that only the
 * server knows (SESSION_SECRET, or in development a key derived from the development JWT secret). JavaScript in
 * the page never sees it (httpOnly), another site never sends it (SameSite=Strict), it travels only over HTTPS in
 * production (Secure). Writes made with the cookie must also carry `X-Requested-With: iter-console` (CSRF: a
 * cross-site form cannot set a custom header, and a cross-site fetch that sets one needs a CORS preflight).
 */
export const SESSION_COOKIE = 'iter_session';
export const CSRF_HEADER = 'x-requested-with';
export const CSRF_VALUE = 'iter-console';
const AUDIENCE = 'iter-console-session';

export interface SessionSettings {
  key: Uint8Array;
  secure: boolean;
  ttlSeconds: number;
  /** the development sign-in page (pick a fixture user) */
  devSignIn: boolean;
  oidc: OidcSettings | null;
}

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  redirectUri: string;
  scope: string;
  postLogoutRedirectUri: string | null;
}

/**
 * The development sign-in is available only outside production and only while the development JWT secret is
 * the one in use (the same condition under which development tokens are accepted at all).
 */
export function devSignInEnabled(config: IterConfig): boolean {
  return config.nodeEnv !== 'production' && config.jwtSecret === DEV_JWT_SECRET;
}

/** Session settings from the environment, validated like the rest of the configuration. */
export function loadSessionSettings(
  config: IterConfig,
  env: NodeJS.ProcessEnv = process.env,
): SessionSettings {
  const problems: string[] = [];
  const production = config.nodeEnv === 'production';
  const secret = env['SESSION_SECRET'] || null;
  if (secret !== null && secret.length < 32)
    problems.push('SESSION_SECRET: must be at least 32 characters');
  const issuer = env['OIDC_ISSUER'] || null;
  let oidc: OidcSettings | null = null;
  if (issuer) {
    const clientId = env['OIDC_CLIENT_ID'] || '';
    const redirectUri = env['OIDC_REDIRECT_URI'] || '';
    if (!clientId) problems.push('OIDC_CLIENT_ID is required with OIDC_ISSUER');
    if (!redirectUri) problems.push('OIDC_REDIRECT_URI is required with OIDC_ISSUER');
    for (const [name, v] of [
      ['OIDC_ISSUER', issuer],
      ['OIDC_REDIRECT_URI', redirectUri],
    ] as const) {
      try {
        if (v) new URL(v);
      } catch {
        problems.push(`${name}: not a valid URL`);
      }
    }
    oidc = {
      issuer,
      clientId,
      clientSecret: env['OIDC_CLIENT_SECRET'] || null,
      redirectUri,
      scope: env['OIDC_SCOPE'] || 'openid profile',
      postLogoutRedirectUri: env['OIDC_POST_LOGOUT_REDIRECT_URI'] || null,
    };
  }
  let key: Uint8Array;
  if (secret) key = new TextEncoder().encode(secret);
  else if (devSignInEnabled(config))
    // stable across restarts in development; never the development secret itself
    key = createHmac('sha256', DEV_JWT_SECRET).update('iter-console-session').digest();
  else if (oidc || production) {
    problems.push('SESSION_SECRET is required for the console sessions (at least 32 characters)');
    key = randomBytes(32);
  } else key = randomBytes(32);
  const ttlRaw = env['SESSION_TTL_SECONDS'];
  const ttlSeconds = ttlRaw ? Number(ttlRaw) : 8 * 3600;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 7 * 86400)
    problems.push('SESSION_TTL_SECONDS: must be an integer between 60 and 604800');
  if (problems.length) throw new ConfigError(problems);
  return {
    key,
    secure: production || env['SESSION_COOKIE_SECURE'] === 'true',
    ttlSeconds,
    devSignIn: devSignInEnabled(config),
    oidc,
  };
}

/** Issues and verifies session tokens; the cookie attributes live here too. */
export class SessionService {
  constructor(readonly settings: SessionSettings) {}

  async issue(actor: Actor, via: 'dev' | 'oidc'): Promise<string> {
    return new SignJWT({
      name: actor.name,
      roles: actor.roles,
      ente: actor.ente,
      unione: actor.unione,
      via,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(actor.subject)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.settings.ttlSeconds}s`)
      .sign(this.settings.key);
  }

  async verify(token: string): Promise<Actor> {
    try {
      const { payload } = await jwtVerify(token, this.settings.key, {
        algorithms: ['HS256'],
        audience: AUDIENCE,
        requiredClaims: ['exp', 'sub'],
      });
      const roles = (Array.isArray(payload['roles']) ? (payload['roles'] as unknown[]) : []).filter(
        (r): r is Role => typeof r === 'string' && (ROLES as readonly string[]).includes(r),
      );
      if (roles.length === 0 || roles.includes('system')) throw new Error('no role');
      return {
        subject: payload.sub!,
        name: typeof payload['name'] === 'string' ? payload['name'] : undefined,
        roles,
        ente: typeof payload['ente'] === 'string' ? payload['ente'] : null,
        unione: typeof payload['unione'] === 'string' ? payload['unione'] : null,
      };
    } catch {
      throw new UnauthenticatedError('sessione scaduta o non valida: accedere di nuovo');
    }
  }

  cookie(value: string, maxAgeSeconds = this.settings.ttlSeconds): string {
    return serializeCookie(SESSION_COOKIE, value, {
      maxAge: maxAgeSeconds,
      secure: this.settings.secure,
    });
  }

  clearCookie(): string {
    return serializeCookie(SESSION_COOKIE, '', { maxAge: 0, secure: this.settings.secure });
  }
}

export function serializeCookie(
  name: string,
  value: string,
  o: { maxAge: number; secure: boolean; path?: string; sameSite?: 'Strict' | 'Lax' },
): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${o.path ?? '/'}`,
    `Max-Age=${o.maxAge}`,
    'HttpOnly',
    `SameSite=${o.sameSite ?? 'Strict'}`,
    ...(o.secure ? ['Secure'] : []),
  ].join('; ');
}

/** The value of one cookie from a Cookie header (RFC 6265 syntax), or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}
