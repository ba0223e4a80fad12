import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { maskPersonalData } from './log-redaction';

/**
 * The request id of the work being done: an HTTP request's (X-Request-Id, or one given to it), or, in the worker,
 * the id carried by the job that the request caused. Operational correlation only (logs, job data, the
 * `request_id` column of process_event, outside the audit hash): never evidence, never used to decide anything.
 */
const storage = new AsyncLocalStorage<string>();

/** Runs fn with this request id as the current one (none: fn runs without one). */
export function runWithRequestId<T>(requestId: string | null | undefined, fn: () => T): T {
  return requestId ? storage.run(requestId, fn) : storage.exit(fn);
}

/** The current request id, or null outside any request or job that carries one. */
export function currentRequestId(): string | null {
  return storage.getStore() ?? null;
}

const jobRequestIds = new AsyncLocalStorage<ReadonlyMap<string, string | null>>();

/**
 * Runs fn with the request id each job id is to carry: for jobs of several requests enqueued together (the
 * engine's post-commit batches), where no single current request id is right for all of them.
 */
export function runWithJobRequestIds<T>(ids: ReadonlyMap<string, string | null>, fn: () => T): T {
  return jobRequestIds.run(ids, fn);
}

/** The request id a job carries: the one given for its id (runWithJobRequestIds), else the current one. */
export function requestIdOfJob(jobId: string): string | null {
  const batch = jobRequestIds.getStore();
  if (batch?.has(jobId)) return batch.get(jobId) ?? null;
  return currentRequestId();
}

/** Header names as Node gives them (lower case). */
export const REQUEST_ID_HEADER = 'x-request-id';

/** an incoming id is kept if short and plain: letters, digits and . _ : - (a UUID, a proxy's trace id) */
const SAFE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * The id of an incoming request: the client's or proxy's X-Request-Id when it is bounded (≤ 128 characters),
 * of a safe charset and not personal data (a codice fiscale would end up in the logs and the audit table);
 * otherwise a new UUID.
 */
export function requestIdFrom(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  if (given && SAFE_REQUEST_ID.test(given) && maskPersonalData(given) === given) return given;
  return randomUUID();
}
