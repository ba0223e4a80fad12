import {
  createParamDecorator,
  Injectable,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { UnauthenticatedError, type Actor } from '@app/common';
import { JwtVerifier } from '@app/auth';

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
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [ctx.getHandler(), ctx.getClass()]))
      return true;
    const req = ctx.switchToHttp().getRequest<WithActor>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const header = req.headers.authorization;
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
