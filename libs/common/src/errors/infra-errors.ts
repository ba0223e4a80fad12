/**
 * Failures of the infrastructure (Postgres, Redis) recognised by their shape, without importing a driver:
 * the API answers them 503 (or 409 for a busy process) with Retry-After instead of 500, and logs them once
 * per outage. Mapped to HTTP in apps/api/src/http/domain-error.filter.ts.
 */
export const INFRA_ERROR_CODES = [
  'DATABASE_UNAVAILABLE',
  'QUEUE_UNAVAILABLE',
  'PROCESS_BUSY',
] as const;
export type InfraErrorCode = (typeof INFRA_ERROR_CODES)[number];

export interface InfraFailure {
  code: InfraErrorCode;
  /** which dependency: postgres or redis */
  dependency: 'postgres' | 'redis';
  /** a short technical reason, e.g. ECONNREFUSED, 57P01, lock_timeout */
  reason: string;
}

/** socket-level failures: the server is not there or went away */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** SQLSTATEs of a server that is shutting down, starting up or cut off (class 08: connection exception) */
const PG_UNAVAILABLE = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovery)
  '57P05', // idle_session_timeout
  '25P03', // idle_in_transaction_session_timeout: this session was cut off
  '53300', // too_many_connections
  '57014', // query_canceled: statement_timeout
]);

/** messages of node-postgres, pg-pool and TypeORM for a connection that failed or timed out */
const PG_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Query read timeout/i,
  /Client has encountered a connection error/i,
  /Client was closed and is not queryable/i,
  /Cannot use a pool after calling end/i,
  /the database system is (shutting down|starting up|in recovery mode)/i,
  /terminating connection/i,
];

/** messages of ioredis/BullMQ when Redis does not answer */
const REDIS_MESSAGES = [
  /Stream isn't writeable and enableOfflineQueue options is false/i,
  /Connection is closed/i,
  /Command timed out/i,
  /Reached the max retries per request limit/i,
  /enqueue timed out/i,
];

function* chain(err: unknown): Generator<Record<string, unknown>> {
  let cur: unknown = err;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    yield cur as Record<string, unknown>;
    const c = cur as { driverError?: unknown; cause?: unknown };
    cur = c.driverError ?? c.cause;
  }
}

/** Postgres or Redis unavailable, or a busy row lock; null for anything else (a bug: 500). */
export function classifyInfraError(err: unknown): InfraFailure | null {
  const links = [...chain(err)];
  const str = (e: Record<string, unknown>, k: string) => (typeof e[k] === 'string' ? e[k] : '');
  // codes first (the driver's, wrapped by TypeORM's QueryFailedError), then messages
  for (const e of links) {
    const name = str(e, 'name');
    const code = str(e, 'code');
    if (name === 'QueryRunnerAlreadyReleasedError' || name === 'ConnectionIsNotSetError')
      return { code: 'DATABASE_UNAVAILABLE', dependency: 'postgres', reason: name };
    if (code === '55P03')
      return { code: 'PROCESS_BUSY', dependency: 'postgres', reason: 'lock_timeout' };
    if (/^08[0-9A-Z]{3}$/.test(code) || PG_UNAVAILABLE.has(code))
      return { code: 'DATABASE_UNAVAILABLE', dependency: 'postgres', reason: code };
    if (name === 'MaxRetriesPerRequestError')
      return { code: 'QUEUE_UNAVAILABLE', dependency: 'redis', reason: name };
    // Redis calls on a request are bounded and never throw a socket error up here (see
    // ResilientJobScheduler): a socket failure that reaches the edge is Postgres's
    if (SOCKET_CODES.has(code))
      return { code: 'DATABASE_UNAVAILABLE', dependency: 'postgres', reason: code };
  }
  for (const e of links) {
    const message = str(e, 'message');
    if (REDIS_MESSAGES.some((r) => r.test(message)))
      return { code: 'QUEUE_UNAVAILABLE', dependency: 'redis', reason: message };
    if (PG_MESSAGES.some((r) => r.test(message)))
      return { code: 'DATABASE_UNAVAILABLE', dependency: 'postgres', reason: message };
  }
  return null;
}

/** Retry-After (seconds) suggested for each infrastructure code */
export const RETRY_AFTER_S: Record<InfraErrorCode, number> = {
  DATABASE_UNAVAILABLE: 5,
  QUEUE_UNAVAILABLE: 5,
  PROCESS_BUSY: 1,
};
