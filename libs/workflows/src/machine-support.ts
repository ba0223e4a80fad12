import {
  createActor,
  type AnyActorScope,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
  type ExecutableActionObject,
} from 'xstate';

/** Event types some active state node has a transition for (guards not evaluated). */
export function acceptedEventTypes(snapshot: AnyMachineSnapshot): Set<string> {
  const types = new Set<string>();
  for (const node of snapshot._nodes as { ownEvents: string[] }[]) {
    for (const t of node.ownEvents) types.add(t);
  }
  return types;
}

/**
 * XState's `transition(machine, snapshot, event)` — the next snapshot and the actions to execute, none executed —
 * without its cost per call: `transition()` builds a new inert actor scope each time, and that constructs an
 * actor, which computes the machine's initial snapshot (for our machines, with no input, a context factory
 * that throws and is caught). The scope is built once per machine and reused; it only collects the actions
 * (`actionExecutor`), and none of Iter's machines invokes or spawns actors, so nothing is registered in its
 * system between calls. `pure-transition.spec.ts` checks the results against `transition()`.
 */
export function pureTransition(
  machine: AnyStateMachine,
  snapshot: AnyMachineSnapshot,
  event: EventObject,
): [AnyMachineSnapshot, ExecutableActionObject[]] {
  type Scope = Parameters<AnyStateMachine['transition']>[2];
  let scope = scopes.get(machine);
  if (!scope) {
    scope = inertScope(machine);
    scopes.set(machine, scope);
  }
  const actions: ExecutableActionObject[] = [];
  scope.actionExecutor = (action) => void actions.push(action);
  try {
    return [machine.transition(snapshot, event, scope as Scope) as AnyMachineSnapshot, actions];
  } finally {
    scope.actionExecutor = ignore;
  }
}

const ignore = (): void => undefined;
const scopes = new WeakMap<AnyStateMachine, AnyActorScope>();

/** what xstate's own createInertActorScope builds (not exported): an actor that never runs, no-op hooks */
function inertScope(machine: AnyStateMachine): AnyActorScope {
  const self = createActor(machine);
  return {
    self,
    defer: ignore,
    id: '',
    logger: ignore,
    sessionId: '',
    stopChild: ignore,
    system: self.system,
    emit: ignore,
    actionExecutor: ignore,
  };
}
