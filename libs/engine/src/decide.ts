import type { AnyMachineSnapshot } from 'xstate';
import {
  ActorEnteUnknownError,
  ForbiddenOrganError,
  ForbiddenError,
  RuleViolationError,
  TransitionNotAllowedError,
  ValidationFailedError,
  type Actor,
} from '@app/common';
import {
  acceptedEventTypes,
  pureTransition,
  type MachineEvent,
  type ProcessDefinition,
} from '@app/workflows';
import { authorizeEvent, type Refusal } from './authorization';
import { allowedEventsFor } from './process-view';

/** 403 with the refusal's stable code (FORBIDDEN, FORBIDDEN_ORGAN, ACTOR_ENTE_UNKNOWN). */
export function refusalError(r: Refusal, details?: unknown): Error {
  switch (r.code) {
    case 'FORBIDDEN_ORGAN':
      return new ForbiddenOrganError(r.message, details);
    case 'ACTOR_ENTE_UNKNOWN':
      return new ActorEnteUnknownError(r.message, details);
    case 'FORBIDDEN':
      return new ForbiddenError(r.message, details);
  }
}

/** the executable actions `transition()` returns (their params are data, see @app/workflows effects) */
export interface DecidedAction {
  type: string;
  params?: unknown;
}

/**
 * The pure decision of one step, once the payload is validated: may this actor send it for that ente
 * (403 FORBIDDEN), does the current state take it at all (409 TRANSITION_NOT_ALLOWED), does its rule allow it
 * (422 RULE_VIOLATION with the rule's code), then XState's `transition()`. The engine's dispatch and the
 * tests of `allowedEventsFor` call this very function, so what is offered is what is accepted.
 */
export function decideEvent(
  def: ProcessDefinition,
  current: AnyMachineSnapshot,
  event: MachineEvent,
  actor: Actor,
  tenant: string,
  participants: readonly string[],
): { next: AnyMachineSnapshot; actions: DecidedAction[] } {
  const spec = def.events[event.type];
  if (!spec) {
    throw new ValidationFailedError([
      {
        field: 'type',
        errors: [
          `unknown event type; one of: ${Object.keys(def.events)
            .filter((t) => def.events[t]!.scope !== 'system')
            .join(', ')}`,
        ],
      },
    ]);
  }
  const ente = spec.scope === 'ente' ? String(event.payload['ente']) : undefined;
  // appointee-scoped events (the RTD): the person the process names, read from the current snapshot
  const appointee = spec.scope === 'appointee' ? (def.appointee?.(current) ?? null) : undefined;
  const refusal = authorizeEvent(spec, actor, tenant, participants, ente, appointee);
  if (refusal) {
    throw refusalError(
      refusal,
      ente === undefined ? { event: event.type } : { event: event.type, ente },
    );
  }
  try {
    assertAccepted(def, current, event);
  } catch (err) {
    // the 409 names what this caller may send now (as `allowedEvents` of the view), not every event the state
    // takes: a sindaco is not told to record a deliberation
    if (err instanceof TransitionNotAllowedError) {
      const mine = allowedEventsFor(def, current, actor, tenant, participants).map((e) => e.type);
      throw new TransitionNotAllowedError(err.state, err.eventType, mine);
    }
    throw err;
  }
  const [next, actions] = pureTransition(def.machine, current, event) as [
    AnyMachineSnapshot,
    DecidedAction[],
  ];
  if (next === current) {
    // a safety net: every guard of an event a person sends is its rule, already checked above
    throw new RuleViolationError('GUARD_REFUSED', `L'evento ${event.type} non è applicabile ora`);
  }
  return { next, actions };
}

/** The state takes the event, and its rule (precondition, then payload) allows it. */
export function assertAccepted(
  def: ProcessDefinition,
  current: AnyMachineSnapshot,
  event: MachineEvent,
): void {
  const accepted = acceptedEventTypes(current);
  if (!accepted.has(event.type)) {
    const allowed = Object.keys(def.events).filter(
      (t) => def.events[t]!.scope !== 'system' && accepted.has(t),
    );
    throw new TransitionNotAllowedError(def.stateLabel(current), event.type, allowed);
  }
  const refusal = def.events[event.type]?.rule?.(current, event);
  if (refusal) {
    throw new RuleViolationError(
      refusal.rule,
      refusal.message,
      refusal.field ? [{ field: refusal.field, errors: [refusal.message] }] : undefined,
      refusal.details,
    );
  }
}
