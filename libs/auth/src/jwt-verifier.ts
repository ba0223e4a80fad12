import { createSecretKey, type KeyObject } from 'node:crypto';
import {
  createRemoteJWKSet,
  jwtVerify,
  SignJWT,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { ROLES, UnauthenticatedError, type Actor, type Role } from '@app/common';

export interface JwtSettings {
  secret: string | null;
  jwksUrl: string | null;
  issuer: string | null;
  audience: string | null;
  /** longest accepted lifetime, exp - iat (seconds); a token older than this is refused too */
  maxLifetimeSec?: number;
  /** tolerated clock difference with the issuer (seconds): exp, nbf and an iat in the future */
  clockSkewSec?: number;
  /** how long a verified token is remembered (ms; 0: never), never past its exp; default 60 s */
  cacheTtlMs?: number;
  /** how many verified tokens are remembered at most; default 10,000 */
  cacheMaxEntries?: number;
  /** the clock of the cache (tests); jose itself reads Date.now() */
  now?: () => number;
}

const DEFAULT_MAX_LIFETIME_S = 43_200;
const DEFAULT_CLOCK_SKEW_S = 30;
const DEFAULT_CACHE_TTL_MS = 60_000;
const DEFAULT_CACHE_MAX = 10_000;

/** Claims Iter reads: sub, name, roles[], ente (codice IPA), unione (codice IPA of the tenant). */
export interface IterClaims extends JWTPayload {
  name?: string;
  roles?: string[];
  ente?: string | null;
  unione?: string | null;
}

/** Algorithms accepted per key source. Anything else (`none`, HS* against a JWKS, PS*, EdDSA...) is refused. */
export const JWKS_ALGORITHMS = ['RS256', 'ES256'];
export const SECRET_ALGORITHMS = ['HS256'];

/**
 * Verifies bearer tokens with `jose`: HS256 with a shared secret (development), or RS256/ES256 against a
 * JWKS URL (an OIDC provider in production, e.g. a SPID/CIE gateway). When a JWKS URL is configured it is
 * the only key source (the secret is ignored), so a token signed with a leaked development secret is refused.
 * `alg: none` and every other algorithm are refused; `exp` and a string `sub` are required; `iss` and `aud`
 * are checked when configured (production requires both: see loadConfig). `iat` is required: a token issued in
 * the future (beyond the clock skew) is refused, and so is one whose lifetime (exp - iat) exceeds the maximum.
 * A token that grants no known role is refused too (401): `system` can never
 * be claimed by a token, it is the engine's own actor for timers.
 *
 * A token verified once is remembered for `cacheTtlMs` (60 s), never past its `exp`: a client sends the same
 * token with every request, and the signature check and claim parsing are most of the guard's cost. Only
 * successes are remembered; a token is the key, so a different token (another user, a renewed token) is verified
 * afresh. What this gives up: a signing key removed from the JWKS still admits the tokens it signed for at most
 * `cacheTtlMs` (Iter has no token revocation otherwise: a token is valid until its exp). The cache is a Map in
 * insertion order, the oldest entry dropped when full: entries expire by time, so no LRU library is needed.
 */
export class JwtVerifier {
  private readonly secret: KeyObject | null;
  private readonly jwks: JWTVerifyGetKey | null;
  private readonly verified = new Map<string, { actor: Actor; until: number }>();

  constructor(private readonly s: JwtSettings) {
    // a KeyObject made once: jose would otherwise import the secret's bytes again for every token
    this.secret = s.secret ? createSecretKey(Buffer.from(s.secret, 'utf8')) : null;
    this.jwks = s.jwksUrl ? createRemoteJWKSet(new URL(s.jwksUrl)) : null;
  }

  async verify(token: string): Promise<Actor> {
    const now = this.s.now?.() ?? Date.now();
    const hit = this.verified.get(token);
    if (hit) {
      if (now < hit.until) return { ...hit.actor, roles: [...hit.actor.roles] };
      this.verified.delete(token);
    }
    const { actor, exp } = await this.verifyNow(token);
    const ttl = this.s.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    if (ttl > 0) {
      if (this.verified.size >= (this.s.cacheMaxEntries ?? DEFAULT_CACHE_MAX)) {
        const oldest = this.verified.keys().next();
        if (!oldest.done) this.verified.delete(oldest.value);
      }
      this.verified.set(token, { actor, until: Math.min(now + ttl, exp * 1000) });
    }
    return { ...actor, roles: [...actor.roles] };
  }

  private async verifyNow(token: string): Promise<{ actor: Actor; exp: number }> {
    const maxLifetime = this.s.maxLifetimeSec ?? DEFAULT_MAX_LIFETIME_S;
    const opts = {
      issuer: this.s.issuer ?? undefined,
      audience: this.s.audience ?? undefined,
      requiredClaims: ['exp', 'sub', 'iat'],
      clockTolerance: this.s.clockSkewSec ?? DEFAULT_CLOCK_SKEW_S,
      // jose refuses an iat in the future (beyond clockTolerance) and a token older than this
      maxTokenAge: maxLifetime,
    };
    let payload: IterClaims;
    try {
      if (this.jwks) {
        ({ payload } = await jwtVerify<IterClaims>(token, this.jwks, {
          ...opts,
          algorithms: JWKS_ALGORITHMS,
        }));
      } else if (this.secret) {
        ({ payload } = await jwtVerify<IterClaims>(token, this.secret, {
          ...opts,
          algorithms: SECRET_ALGORITHMS,
        }));
      } else {
        throw new Error('no key configured');
      }
    } catch (err) {
      throw new UnauthenticatedError(
        reasonOf(
          (err as { code?: string; claim?: string }).code,
          (err as { claim?: string }).claim,
        ),
      );
    }
    if (payload.exp! - payload.iat! > maxLifetime) {
      throw new UnauthenticatedError(
        `durata del token oltre il massimo consentito (${maxLifetime} s tra iat ed exp)`,
      );
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 200) {
      throw new UnauthenticatedError('il claim sub deve essere una stringa non vuota');
    }
    const roles = [
      ...new Set(
        (Array.isArray(payload.roles) ? payload.roles : []).filter(
          (r): r is Role =>
            typeof r === 'string' && (ROLES as readonly string[]).includes(r) && r !== 'system',
        ),
      ),
    ];
    if (roles.length === 0) throw new UnauthenticatedError('il token non indica alcun ruolo');
    const actor: Actor = {
      subject: payload.sub,
      name: typeof payload.name === 'string' ? payload.name : undefined,
      roles,
      ente: typeof payload.ente === 'string' ? payload.ente : null,
      unione: typeof payload.unione === 'string' ? payload.unione : null,
    };
    return { actor, exp: payload.exp! };
  }
}

/** A short Italian reason for the 401; never echoes the token or key material. */
function reasonOf(code: string | undefined, claim: string | undefined): string {
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'token scaduto';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'algoritmo di firma non ammesso';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'firma non valida';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'iat') return 'claim iat non valido, mancante o nel futuro';
      return claim ? `claim ${claim} non valido o mancante` : 'claim non valido o mancante';
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JOSE_GENERIC': // non-200 answer from the JWKS URL
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'ENOTFOUND':
      return 'impossibile verificare il token: il JWKS del provider non risponde';
    default:
      return 'token non valido';
  }
}

/** Mint an HS256 development token (apps/cli `token`, tests). Set issuer/audience when the API checks them. */
export async function mintDevToken(
  secret: string,
  claims: {
    sub: string;
    name?: string;
    roles: Role[];
    ente?: string | null;
    unione?: string | null;
  },
  ttl = '8h',
  opts: { issuer?: string | null; audience?: string | null } = {},
): Promise<string> {
  let jwt = new SignJWT({
    name: claims.name,
    roles: claims.roles,
    ente: claims.ente ?? null,
    unione: claims.unione ?? null,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(ttl);
  if (opts.issuer) jwt = jwt.setIssuer(opts.issuer);
  if (opts.audience) jwt = jwt.setAudience(opts.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
