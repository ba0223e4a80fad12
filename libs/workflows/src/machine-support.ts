import type { AnyMachineSnapshot } from 'xstate';

/** Event types some active state node has a transition for (guards not evaluated). */
export function acceptedEventTypes(snapshot: AnyMachineSnapshot): Set<string> {
  const types = new Set<string>();
  for (const node of snapshot._nodes as { ownEvents: string[] }[]) {
    for (const t of node.ownEvents) types.add(t);
  }
  return types;
}
