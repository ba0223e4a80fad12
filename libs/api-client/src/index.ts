import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { paths } from './schema';

/**
 * The typed Iter API client: `schema.d.ts` is generated from the OpenAPI document by `npm run gen:api`
 * (openapi-typescript), the calls go through openapi-fetch. Every path, body and answer is checked by the compiler.
 */
export type { components, operations, paths } from './schema';
export type IterClient = Client<paths>;

export function createIterClient(
  opts: { baseUrl: string; token?: string } & Omit<ClientOptions, 'baseUrl'>,
): IterClient {
  const { token, ...rest } = opts;
  return createClient<paths>({
    ...rest,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}) },
  });
}
