import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Response } from 'express';
import { DomainError, type ErrorCode } from '@app/common';
import { DependencyMonitor } from '@app/runtime';
import { infraToHttp } from './infra-error';

/** The one place where domain error codes become HTTP statuses. */
export const STATUS_OF: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  INVALID_ID: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  PROCESS_NOT_FOUND: 404,
  DEFINITION_NOT_FOUND: 404,
  TRANSITION_NOT_ALLOWED: 409,
  VERSION_CONFLICT: 409,
  ALREADY_EXISTS: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  RULE_VIOLATION: 422,
  ENTE_NOT_FOUND: 422,
  BEFORE_PROCESS_START: 404,
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
};

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
    const [status, body] = toHttp(err);
    if (status >= 500)
      this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    res.status(status).json(body);
  }
}

export function toHttp(err: unknown): [number, ErrorBody] {
  if (err instanceof DomainError) {
    const de = err as DomainError;
    const code: ErrorCode = de.code;
    const body: ErrorBody = { code, message: de.message };
    if (de.details !== undefined) body.details = de.details;
    return [STATUS_OF[code] ?? 422, body];
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const r: unknown = err.getResponse();
    const raw =
      typeof r === 'string' ? r : ((r as { message?: string | string[] }).message ?? err.message);
    const message = Array.isArray(raw) ? raw.join('; ') : raw;
    // body-parser's JSON syntax error reaches Nest as a 400 HttpException
    const code =
      status === 400 && /JSON/i.test(message)
        ? 'MALFORMED_JSON'
        : (HTTP_CODES[status] ?? 'HTTP_ERROR');
    return [status, { code, message }];
  }
  const e = err as { type?: string } | null;
  if (e && e.type === 'entity.too.large')
    return [413, { code: 'PAYLOAD_TOO_LARGE', message: 'Richiesta troppo grande' }];
  if (e && e.type === 'entity.parse.failed')
    return [400, { code: 'MALFORMED_JSON', message: 'JSON non valido' }];
  return [HttpStatus.INTERNAL_SERVER_ERROR, { code: 'INTERNAL_ERROR', message: 'Errore interno' }];
}
