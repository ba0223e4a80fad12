import type { DataSource } from 'typeorm';
import { ProcessNotFoundError, type Actor } from '@app/common';
import { mermaidDiagram, type DefinitionRegistry } from '@app/workflows';
import { canRead } from './authorization';

/** The Mermaid diagram of one process instance: its definition's machine with the current state marked. */
export async function processDiagram(
  ds: DataSource,
  registry: DefinitionRegistry,
  instanceId: string,
  actor: Actor,
): Promise<string> {
  const rows = await ds.query<
    { definition_key: string; definition_version: number; tenant: string; snapshot: unknown }[]
  >(
    `SELECT definition_key, definition_version, tenant, snapshot FROM process_instance WHERE id = $1`,
    [instanceId],
  );
  const row = rows[0];
  if (!row || !canRead(actor, row.tenant)) throw new ProcessNotFoundError(instanceId);
  const def = registry.get(row.definition_key, row.definition_version);
  const snapshot = def.machine.resolveState(
    row.snapshot as Parameters<typeof def.machine.resolveState>[0],
  );
  return mermaidDiagram(def, { snapshot });
}
