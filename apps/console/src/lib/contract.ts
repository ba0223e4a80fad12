import { useEffect, useState } from 'react';
import { api, call } from '../api/client';
import type { DefinitionInfo } from '../api/types';
import type { JsonSchema } from './form-schema';

/**
 * The contract at run time: the payload JSON schemas from the OpenAPI document (/docs-json components) and the
 * definitions (which DTO each event takes). A new event (e.g. of the RTD process) gets its form from these.
 */
export interface Contract {
  schemas: Record<string, JsonSchema>;
  definitions: DefinitionInfo[];
}

let cached: Promise<Contract> | null = null;

export function loadContract(): Promise<Contract> {
  cached ??= (async () => {
    const [doc, definitions] = await Promise.all([
      fetch('/docs-json', { credentials: 'same-origin' }).then(
        (r) => r.json() as Promise<{ components?: { schemas?: Record<string, JsonSchema> } }>,
      ),
      call<DefinitionInfo[]>(api.GET('/v1/definitions')),
    ]);
    return { schemas: doc.components?.schemas ?? {}, definitions };
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
