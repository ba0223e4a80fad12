import { mintDevToken } from '@app/auth';
import { loadConfig, ROLES, type Role } from '@app/common';
import { defineCommand, UsageError } from '../cli';
import { say, warn } from './support';

const HUMAN_ROLES = ROLES.filter((r) => r !== 'system');
/** jose's time span: a number and a unit (s, m, h, d, w), e.g. 90s, 15m, 8h, 2d */
const LIFETIME =
  /^\d+\s?(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks)$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** The lifetime in seconds (`LIFETIME` already matched): the unit's first letter decides (`min` is m, `hrs` h). */
function lifetimeSeconds(ttl: string): number {
  const [, n, unit] = /^(\d+)\s?([a-z])/.exec(ttl)!;
  return Number(n) * UNIT_SECONDS[unit!]!;
}

export interface DevTokenClaims {
  sub: string;
  roles: Role[];
  ente?: string | null;
  unione?: string | null;
  name?: string;
}

/**
 * A development token: HS256 with the shared secret (JWT_SECRET, or the built-in development secret with
 * JWT_DEV_SECRET=true, never in production). Null when no shared secret is configured (an OIDC/JWKS
 * deployment mints nothing here: its identity provider does).
 */
export async function devToken(
  claims: DevTokenClaims,
  lifetime = '8h',
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | null> {
  const config = loadConfig(env);
  if (!config.jwtSecret) return null;
  return mintDevToken(config.jwtSecret, claims, lifetime, {
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
  });
}

export const token = defineCommand({
  name: 'token',
  summary:
    'mint a development token (HS256, JWT_SECRET or the development secret), printed on stdout',
  options: {
    sub: { type: 'string' },
    role: { type: 'string' },
    ente: { type: 'string' },
    unione: { type: 'string' },
    ttl: { type: 'string' },
    name: { type: 'string' },
    'dev-secret': { type: 'boolean' },
  },
  optionHelp: {
    sub: { value: '<subject>', help: 'the subject (required)' },
    role: { value: '<role>[,<role>]', help: `one or more of ${HUMAN_ROLES.join(', ')} (required)` },
    ente: { value: '<ipa>', help: 'the ente the roles act for (codice IPA)' },
    unione: {
      value: '<ipa>',
      help: 'the Unione (tenant); none for a cross-tenant admin or auditor',
    },
    ttl: {
      value: '<lifetime>',
      help: 'lifetime, e.g. 15m, 8h (default 8h; at most JWT_MAX_LIFETIME_S, 12h by default)',
    },
    name: { value: '<name>', help: 'display name' },
    'dev-secret': {
      help: 'outside production, with no JWT_SECRET: sign with the built-in development secret',
    },
  },
  async run(v) {
    const roles = (v.role ?? '').split(',').filter(Boolean);
    const bad = roles.filter((r) => !(HUMAN_ROLES as readonly string[]).includes(r));
    if (!v.sub) throw new UsageError('--sub is required');
    if (roles.length === 0) throw new UsageError('--role is required');
    if (bad.length) throw new UsageError(`unknown role: ${bad.join(', ')}`);
    const ttl = v.ttl ?? '8h';
    if (!LIFETIME.test(ttl)) throw new UsageError(`bad --ttl ${ttl}: a number and a unit, e.g. 8h`);
    const env = { ...process.env };
    // the API refuses a token whose exp - iat exceeds JWT_MAX_LIFETIME_S: never mint one it would refuse
    const max = loadConfig(env).jwtMaxLifetimeSec;
    if (lifetimeSeconds(ttl) > max)
      throw new UsageError(
        `bad --ttl ${ttl}: longer than JWT_MAX_LIFETIME_S (${max} s), the API would refuse the token`,
      );
    if (v['dev-secret'] && env['NODE_ENV'] !== 'production' && !env['JWT_SECRET'])
      env['JWT_DEV_SECRET'] = 'true';
    const jwt = await devToken(
      {
        sub: v.sub,
        name: v.name,
        roles: roles as Role[],
        ente: v.ente ?? null,
        unione: v.unione ?? null,
      },
      ttl,
      env,
    );
    if (!jwt) {
      warn(
        'JWT_SECRET is not set: development tokens are HS256 tokens signed with the shared secret ' +
          '(JWT_SECRET, or --dev-secret / JWT_DEV_SECRET=true for the built-in development secret)',
      );
      return 2;
    }
    say(jwt);
    return 0;
  },
});
