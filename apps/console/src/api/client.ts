import createClient from 'openapi-fetch';
// eslint-disable-next-line no-restricted-imports -- the console is a separate Vite bundle: it reads the contract's generated types directly
import type { paths } from '../../../../libs/api-client/src/schema';
import { asApiError, type ApiError } from '../lib/errors';

/**
 * The typed client: the types generated from the OpenAPI document (libs/api-client, `npm run gen:api`). The session is an httpOnly cookie the
 * page cannot read; every request carries X-Requested-With, which the API requires of cookie-authenticated
 * writes (CSRF). Paths, not operationIds, are used, so renaming an operation cannot break the console.
 */
export const api = createClient<paths>({
  baseUrl: '',
  credentials: 'same-origin',
  headers: { 'X-Requested-With': 'iter-console' },
  // views depend on who asks (allowedEvents): never reuse a response cached for another session
  fetch: (request: Request) => fetch(request, { cache: 'no-store' }),
});

export class ApiFailure extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
  }
}

/** unwraps an openapi-fetch result: the data, or an ApiFailure carrying the API's { code, message, details } */
export async function call<T>(
  p: Promise<{ data?: unknown; error?: unknown; response: Response }>,
): Promise<T> {
  let r: { data?: unknown; error?: unknown; response: Response };
  try {
    r = await p;
  } catch {
    throw new ApiFailure({
      status: 0,
      code: 'NETWORK',
      message: 'Impossibile contattare il server',
    });
  }
  if (!r.response.ok) {
    if (r.response.status === 401 && !location.pathname.startsWith('/accedi')) {
      window.dispatchEvent(new CustomEvent('iter:unauthenticated'));
    }
    throw new ApiFailure(asApiError(r.response.status, r.error));
  }
  return r.data as T;
}

type HistoryQuery = NonNullable<paths['/v1/processes/{id}/history']['get']['parameters']['query']>;
/** the page size the console asks for (the API's largest): most histories are one page */
const HISTORY_PAGE = 1000;

/**
 * The whole history (with the given filters), page after page by keyset: a page shorter than the limit is the
 * last; otherwise the next starts after its last seq.
 */
export async function historyAll<E extends { seq: number }>(
  id: string,
  filters: Omit<HistoryQuery, 'after' | 'limit'> = {},
): Promise<E[]> {
  const all: E[] = [];
  let after = 0;
  for (;;) {
    const page = await call<E[]>(
      api.GET('/v1/processes/{id}/history', {
        params: { path: { id }, query: { ...filters, after, limit: HISTORY_PAGE } },
      }),
    );
    all.push(...page);
    if (page.length < HISTORY_PAGE) return all;
    after = page[page.length - 1]!.seq;
  }
}

/** a UUID for the Idempotency-Key (crypto.randomUUID needs a secure context: fall back to getRandomValues) */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
