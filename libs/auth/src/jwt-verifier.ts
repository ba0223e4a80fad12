import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ROLES, UnauthenticatedError, type Actor, type Role } from '@app/common';

export interface JwtSettings {
  secret: string | null;
  jwksUrl: string | null;
  issuer: string | null;
  audience: string | null;
}

/** Claims Iter reads: sub, name, roles[], ente (codice IPA), unione (codice IPA of the tenant). */
export interface IterClaims extends JWTPayload {
  name?: string;
  roles?: string[];
  ente?: string | null;
  unione?: string | null;
}

/**
 * Verifies bearer tokens with `jose`: HS256 with a shared secret (development), or RS256/ES256 against a
 * JWKS URL (an OIDC provider in production, e.g. a SPID/CIE gateway). `alg: none` and every other
 * algorithm are refused; exp is required.
 */
export class JwtVerifier {
  private readonly secret: Uint8Array | null;
  private readonly jwks: JWTVerifyGetKey | null;

  constructor(private readonly s: JwtSettings) {
    this.secret = s.secret ? new TextEncoder().encode(s.secret) : null;
    this.jwks = s.jwksUrl ? createRemoteJWKSet(new URL(s.jwksUrl)) : null;
  }

  async verify(token: string): Promise<Actor> {
    const opts = {
      issuer: this.s.issuer ?? undefined,
      audience: this.s.audience ?? undefined,
      requiredClaims: ['exp', 'sub'],
    };
    let payload: IterClaims;
    try {
      if (this.jwks) {
        ({ payload } = await jwtVerify<IterClaims>(token, this.jwks, { ...opts, algorithms: ['RS256', 'ES256'] }));
      } else if (this.secret) {
        ({ payload } = await jwtVerify<IterClaims>(token, this.secret, { ...opts, algorithms: ['HS256'] }));
      } else {
        throw new Error('no key configured');
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new UnauthenticatedError(code === 'ERR_JWT_EXPIRED' ? 'token scaduto' : 'token non valido');
    }
    const roles = (Array.isArray(payload.roles) ? payload.roles : []).filter((r): r is Role =>
      (ROLES as readonly string[]).includes(r) && r !== 'system',
    );
    if (roles.length === 0) throw new UnauthenticatedError('il token non indica alcun ruolo');
    return {
      subject: payload.sub!,
      name: typeof payload.name === 'string' ? payload.name : undefined,
      roles,
      ente: typeof payload.ente === 'string' ? payload.ente : null,
      unione: typeof payload.unione === 'string' ? payload.unione : null,
    };
  }
}

/** Mint an HS256 development token (apps/cli `token`, tests). */
export async function mintDevToken(
  secret: string,
  claims: { sub: string; name?: string; roles: Role[]; ente?: string | null; unione?: string | null },
  ttl = '8h',
): Promise<string> {
  return new SignJWT({ name: claims.name, roles: claims.roles, ente: claims.ente ?? null, unione: claims.unione ?? null })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(new TextEncoder().encode(secret));
}
