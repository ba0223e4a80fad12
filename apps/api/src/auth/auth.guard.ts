import { createParamDecorator, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { UnauthenticatedError, type Actor } from '@app/common';
import { JwtVerifier } from '@app/auth';

const PUBLIC = 'iter:public';
/** Marks a route that answers without a token (only /health). */
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
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<WithActor>();
    const header = req.headers.authorization;
    if (!header) throw new UnauthenticatedError('manca l’intestazione Authorization: Bearer <token>');
    const [scheme, token] = header.split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) throw new UnauthenticatedError('usare Authorization: Bearer <token>');
    req.actor = await this.verifier.verify(token);
    return true;
  }
}

export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const actor = ctx.switchToHttp().getRequest<WithActor>().actor;
  if (!actor) throw new UnauthenticatedError('nessun utente autenticato');
  return actor;
});
