import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { ValidationFailedError, type FieldError } from '@app/common';

/** The kinds of argument a handler declares (@Body, @Query, @Req...), from Nest's route metadata. */
function declaredArguments(ctx: ExecutionContext): Set<number> {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, ctx.getClass(), ctx.getHandler().name) ??
    {}) as Record<string, unknown>;
  // keys are `<paramtype>:<index>` (custom decorators such as @CurrentActor have a non-numeric paramtype)
  return new Set(Object.keys(args).map((k) => Number(k.split(':')[0])));
}

/**
 * Unknown fields are refused, not ignored: the global ValidationPipe does it for the query and body DTOs a
 * handler declares, this does it for the handlers that declare none. A query parameter on a route that takes
 * no query (`GET /v1/processes/:id?foo=1`), or a body field on one that takes no body, is 400
 * VALIDATION_FAILED (`unknown field: foo`), exactly as on a route with a DTO. Handlers that read the raw
 * request themselves (@Req: the OIDC callback, logout) are left to check what they read.
 */
@Injectable()
export class UndeclaredInputInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const declared = declaredArguments(ctx);
    if (declared.has(RouteParamtypes.REQUEST)) return next.handle();
    const req = ctx.switchToHttp().getRequest<Request>();
    const fields: FieldError[] = [];
    const unknown = (source: unknown): void => {
      if (source === null || typeof source !== 'object') return;
      for (const k of Object.keys(source))
        fields.push({ field: k, errors: [`unknown field: ${k}`] });
    };
    if (!declared.has(RouteParamtypes.QUERY)) unknown(req.query);
    if (!declared.has(RouteParamtypes.BODY)) unknown(req.body);
    if (fields.length) throw new ValidationFailedError(fields);
    return next.handle();
  }
}
