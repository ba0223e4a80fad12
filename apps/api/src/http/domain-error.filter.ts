import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, type ErrorCode } from '@app/common';
import { ApiError } from './api-error';
import { DependencyMonitor } from '@app/runtime';
import { infraToHttp } from './infra-error';

/** The one place where domain error codes become HTTP statuses. */
export const STATUS_OF: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  INVALID_ID: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  FORBIDDEN_ORGAN: 403,
  ACTOR_ENTE_UNKNOWN: 403,
  PROCESS_NOT_FOUND: 404,
  DEFINITION_NOT_FOUND: 404,
  TRANSITION_NOT_ALLOWED: 409,
  VERSION_CONFLICT: 409,
  ALREADY_EXISTS: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  RULE_VIOLATION: 422,
  ENTE_NOT_FOUND: 422,
  BEFORE_PROCESS_START: 404,
  NOTIFICATION_NOT_FOUND: 404,
  WEBHOOK_NOT_FOUND: 404,
};

/** Codes for errors raised by the HTTP layer itself (routing, body parsing, rate limiting). */
const HTTP_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
};

/** At most this many field errors in an answer: an error body stays small whatever was sent. */
export const MAX_FIELD_ERRORS = 20;

/** Cap `details.fields` (and the message that names them) so that an error body stays small. */
function capped(body: ErrorBody): ErrorBody {
  const d = body.details as { fields?: { field: string }[] } | undefined;
  if (!d || !Array.isArray(d.fields) || d.fields.length <= MAX_FIELD_ERRORS) return body;
  const total = d.fields.length;
  const fields = d.fields.slice(0, MAX_FIELD_ERRORS);
  const names = fields
    .slice(0, 10)
    .map((f) => f.field)
    .join(', ');
  return {
    code: body.code,
    message: `Richiesta non valida: ${names} e altri ${total - 10} campi`,
    details: { ...d, fields, fieldsTotal: total, fieldsTruncated: true },
  };
}

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  constructor(private readonly monitor: DependencyMonitor) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    // Postgres/Redis down or a busy process: 503/409 with Retry-After, logged once per outage (the monitor)
    const infra = infraToHttp(err);
    if (infra) {
      this.monitor.report(err);
      res.setHeader('Retry-After', String(infra.retryAfterS));
      res.status(infra.status).json(infra.body);
      return;
    }
    // no route for this method and path: 405 with Allow when the path has routes for other methods
    if (err instanceof NotFoundException && /^Cannot [A-Z]+ /.test(err.message)) {
      const req = host.switchToHttp().getRequest<Request>();
      const allow = routeMethods(req);
      if (allow.length > 0) {
        res.setHeader('Allow', allow.join(', '));
        res.status(405).json({
          code: 'METHOD_NOT_ALLOWED',
          message: `Metodo ${req.method} non ammesso su ${req.path}: ammessi ${allow.join(', ')}`,
          details: { allow },
        });
      } else {
        // the path alone: the query string may carry a token (calendar feeds)
        res.status(404).json({
          code: 'ROUTE_NOT_FOUND',
          message: `Percorso non trovato: ${req.method} ${req.path}`,
        });
      }
      return;
    }
    const [status, body] = toHttp(err);
    if (status >= 500)
      // the error itself: its type, message and stack in the structured line
      this.logger.error(err instanceof Error ? err : { err: String(err) }, 'unexpected error');
    // a download that fails after its headers: abort the connection, so no client takes it for complete
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).json(body);
  }
}

interface RouteLayer {
  route?: { methods: Record<string, boolean | undefined> };
  match(path: string): unknown;
}

/** The methods the application's routes answer on this path (Express's route layers), HEAD with GET. */
function routeMethods(req: Request): string[] {
  const stack = (req.app as unknown as { router?: { stack?: RouteLayer[] } }).router?.stack ?? [];
  const methods = new Set<string>();
  for (const layer of stack) {
    if (!layer.route) continue;
    let hit: unknown = false;
    try {
      hit = layer.match(req.path); // pure in router 2: it stores nothing on the layer
    } catch {
      hit = false; // a parameter that is not valid percent-encoding
    }
    if (!hit) continue;
    for (const [m, on] of Object.entries(layer.route.methods))
      if (on && m !== '_all') methods.add(m.toUpperCase());
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

export function toHttp(err: unknown): [number, ErrorBody] {
  if (err instanceof DomainError) {
    const de = err as DomainError;
    const code: ErrorCode = de.code;
    const body: ErrorBody = { code, message: de.message };
    if (de.details !== undefined) body.details = de.details;
    return [STATUS_OF[code] ?? 422, capped(body)];
  }
  if (err instanceof ApiError) {
    const body: ErrorBody = { code: err.code, message: err.message };
    if (err.details !== undefined) body.details = err.details;
    return [err.status, body];
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const r: unknown = err.getResponse();
    const raw =
      typeof r === 'string' ? r : ((r as { message?: string | string[] }).message ?? err.message);
    const message = Array.isArray(raw) ? raw.join('; ') : raw;
    // body-parser's JSON syntax error reaches Nest as a 400 HttpException: its message is JSON.parse's own
    // English, which quotes the start of the body back ("Unexpected token 'R', \"RSSMRA80A0\"..."): not sent
    if (status === 400 && /JSON/i.test(message))
      return [400, { code: 'MALFORMED_JSON', message: 'JSON non valido' }];
    return [status, { code: HTTP_CODES[status] ?? 'HTTP_ERROR', message }];
  }
  // two requests racing for the same unique key (e.g. the same business key started twice at once): the loser
  // meets the database's unique constraint, which is a conflict, not a server error
  const pg = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  if (pg && (pg.code === '23505' || pg.driverError?.code === '23505'))
    return [
      409,
      {
        code: 'ALREADY_EXISTS',
        message: 'Esiste già: la stessa richiesta è stata appena eseguita',
      },
    ];
  const e = err as { type?: string } | null;
  if (e && e.type === 'entity.too.large')
    return [413, { code: 'PAYLOAD_TOO_LARGE', message: 'Richiesta troppo grande' }];
  if (e && e.type === 'entity.parse.failed')
    return [400, { code: 'MALFORMED_JSON', message: 'JSON non valido' }];
  // any other client error raised by Express or its parsers (http-errors: a 4xx status, expose: true),
  // e.g. a path parameter that is not valid percent-encoding: its status, never a 500
  const he = err as { status?: unknown; expose?: unknown } | null;
  if (he && typeof he.status === 'number' && he.status >= 400 && he.status < 500 && he.expose) {
    return [
      he.status,
      { code: HTTP_CODES[he.status] ?? 'BAD_REQUEST', message: 'Richiesta non valida' },
    ];
  }
  return [HttpStatus.INTERNAL_SERVER_ERROR, { code: 'INTERNAL_ERROR', message: 'Errore interno' }];
}
