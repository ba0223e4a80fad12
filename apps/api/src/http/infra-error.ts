import { classifyInfraError, RETRY_AFTER_S, type InfraFailure } from '@app/common';
import type { ErrorBody } from './domain-error.filter';

const MESSAGES: Record<InfraFailure['code'], string> = {
  DATABASE_UNAVAILABLE: 'Database momentaneamente non disponibile: riprovare tra qualche secondo',
  QUEUE_UNAVAILABLE:
    'Coda dei lavori momentaneamente non disponibile: riprovare tra qualche secondo',
  PROCESS_BUSY:
    'Il procedimento è occupato da un’altra operazione in corso: riprovare tra qualche istante',
};

/**
 * Postgres or Redis unavailable → 503 DATABASE_UNAVAILABLE / QUEUE_UNAVAILABLE; a process whose row lock
 * is held longer than DATABASE_LOCK_TIMEOUT_MS → 409 PROCESS_BUSY. Always with Retry-After (seconds).
 * Nothing was changed: the transaction was rolled back (or never started).
 */
export function infraToHttp(
  err: unknown,
): { status: number; body: ErrorBody; retryAfterS: number; failure: InfraFailure } | null {
  const failure = classifyInfraError(err);
  if (!failure) return null;
  const retryAfterS = RETRY_AFTER_S[failure.code];
  return {
    status: failure.code === 'PROCESS_BUSY' ? 409 : 503,
    body: {
      code: failure.code,
      message: MESSAGES[failure.code],
      details: { dependency: failure.dependency, reason: failure.reason, retryAfterS },
    },
    retryAfterS,
    failure,
  };
}
