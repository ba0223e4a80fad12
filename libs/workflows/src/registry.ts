import { DefinitionNotFoundError } from '@app/common';
import type { ProcessDefinition } from './definition';
import { conventionDefinitionV1 } from './convention/convention.definition';
import { rtdDefinitionV1 } from './rtd/rtd.definition';

/**
 * Every deployed definition, keyed by (key, version). A released version is never edited in place: a new
 * version is added beside it and stays until its instances drain (or an explicit migration moves them).
 */
export class DefinitionRegistry {
  private readonly byKey = new Map<string, Map<number, ProcessDefinition>>();

  constructor(definitions: readonly ProcessDefinition[]) {
    for (const d of definitions) {
      const versions = this.byKey.get(d.key) ?? new Map<number, ProcessDefinition>();
      if (versions.has(d.version)) throw new Error(`duplicate definition ${d.key} v${d.version}`);
      versions.set(d.version, d);
      this.byKey.set(d.key, versions);
    }
  }

  get(key: string, version: number): ProcessDefinition {
    const d = this.byKey.get(key)?.get(version);
    if (!d) throw new DefinitionNotFoundError(key, version);
    return d;
  }

  latest(key: string): ProcessDefinition {
    const versions = this.byKey.get(key);
    if (!versions || versions.size === 0) throw new DefinitionNotFoundError(key);
    return versions.get(Math.max(...versions.keys()))!;
  }

  all(): ProcessDefinition[] {
    return [...this.byKey.values()].flatMap((v) => [...v.values()]);
  }
}

export const DEFINITIONS: readonly ProcessDefinition[] = [conventionDefinitionV1, rtdDefinitionV1];
export const defaultRegistry = (): DefinitionRegistry => new DefinitionRegistry(DEFINITIONS);
