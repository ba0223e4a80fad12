import {
  createParamDecorator,
  Injectable,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { ForbiddenError, UnauthenticatedError, type Actor } from '@app/common';
import { JwtVerifier } from '@app/auth';
import { CSRF_HEADER, CSRF_VALUE, readCookie, SESSION_COOKIE, SessionService } from './session';

const PUBLIC = 'iter:public';
/** Marks a route that answers without a token (only /health; /docs and /docs-json are served outside Nest's router). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC, true);

interface WithActor extends Request {
  actor?: Actor;
}

@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: JwtVerifier,
    private readonly sessions: SessionService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [ctx.getHandler(), ctx.getClass()]))
      return true;
    const req = ctx.switchToHttp().getRequest<WithActor>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const header = req.headers.authorization;
    // an answer depends on who asks (e.g. allowedEvents): a cache must not give one user's answer to another
    res.setHeader('Vary', 'Authorization, Cookie');
    // the console's session cookie (apps/api/src/auth/session.ts), when no bearer token is sent
    const session = header ? null : readCookie(req.headers.cookie, SESSION_COOKIE);
    if (session) {
      req.actor = await this.sessions.verify(session);
      // CSRF: a write made with the cookie must carry the console's custom header
      if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method) && req.get(CSRF_HEADER) !== CSRF_VALUE)
        throw new ForbiddenError(
          `richiesta con cookie di sessione senza l’intestazione ${CSRF_HEADER}: ${CSRF_VALUE}`,
          { rule: 'CSRF_HEADER_REQUIRED' },
        );
      return true;
    }
    // RFC 6750 §3: a 401 tells the client which scheme to use, and whether the token it sent was the problem
    if (!header) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="iter"');
      throw new UnauthenticatedError('manca l’intestazione Authorization: Bearer <token>');
    }
    const token = /^Bearer +([A-Za-z0-9_.~+/=-]+) *$/i.exec(header)?.[1];
    try {
      if (!token) throw new UnauthenticatedError('usare Authorization: Bearer <token>');
      req.actor = await this.verifier.verify(token);
    } catch (err) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="iter", error="invalid_token"');
      throw err;
    }
    return true;
  }
}

export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const actor = ctx.switchToHttp().getRequest<WithActor>().actor;
  if (!actor) throw new UnauthenticatedError('nessun utente autenticato');
  return actor;
});
