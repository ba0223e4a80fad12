import { useEffect, useState } from 'react';
// eslint-disable-next-line no-restricted-imports -- the console is a separate Vite bundle: it bundles the committed contract
import openapi from '../../../../libs/api-client/openapi.json';
import { api, call } from '../api/client';
import type { DefinitionInfo } from '../api/types';
import type { JsonSchema } from './form-schema';

/**
 * The contract: the payload JSON schemas from the OpenAPI document (libs/api-client/openapi.json, the committed
 * copy of /docs-json that apps/api/test/openapi.e2e-spec.ts keeps equal to what the API serves; bundled, so the
 * forms work with DOCS_ENABLED=false too) and, at run time, the definitions (which DTO each event takes).
 * A new event (e.g. of the RTD process) gets its form from these.
 */
export interface Contract {
  schemas: Record<string, JsonSchema>;
  definitions: DefinitionInfo[];
}

let cached: Promise<Contract> | null = null;

export function loadContract(): Promise<Contract> {
  cached ??= (async () => {
    const definitions = await call<DefinitionInfo[]>(api.GET('/v1/definitions'));
    const doc = openapi as { components?: { schemas?: Record<string, unknown> } };
    return { schemas: (doc.components?.schemas ?? {}) as Record<string, JsonSchema>, definitions };
  })();
  cached.catch(() => (cached = null));
  return cached;
}

export function useContract(): Contract | null {
  const [c, setC] = useState<Contract | null>(null);
  useEffect(() => {
    let live = true;
    loadContract().then(
      (x) => live && setC(x),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);
  return c;
}

/** the payload schema name of an event type in a definition (latest version with that key) */
export function payloadSchemaOf(c: Contract, definition: string, eventType: string): string | null {
  const defs = c.definitions.filter((d) => d.key === definition);
  const d = defs.sort((a, b) => b.version - a.version)[0];
  return d?.events.find((e) => e.type === eventType)?.payload?.name ?? null;
}
