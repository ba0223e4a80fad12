import type { AnyStateMachine, AnyMachineSnapshot } from 'xstate';
import type { ActorRecord, Role } from '@app/common';

/** A class-validator DTO class (validated by the engine; the machine receives the plain object). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PayloadClass = new (...args: any[]) => object;

/**
 * Who may send an event.
 * - `unione`: the actor's ente must be the process's unione (the tenant).
 * - `ente`:   the actor's ente must equal `payload.ente`, and that ente must take part in the process.
 * - `system`: only the engine's own system actor (timers); never accepted from HTTP.
 */
export type EventScope = 'unione' | 'ente' | 'system';

export interface EventSpec {
  /** one line, for the API docs and the allowed-events list */
  description: string;
  /** roles that may send it (any of). Ignored for `system` scope. */
  roles: readonly Role[];
  scope: EventScope;
  /** class-validator DTO for the payload; `undefined` means the event takes no payload */
  payload?: PayloadClass;
  /**
   * Domain rule checked after the state accepts the event, before it is sent: returns a refusal
   * (422 RULE_VIOLATION) or null. The machine's own guards use the same functions, so the machine
   * stays correct on its own and the engine can say *why*.
   */
  rule?: (snapshot: AnyMachineSnapshot, event: MachineEvent) => RuleRefusal | null;
  /**
   * The payload names a comune not yet in the process (`payload.ente`): the engine resolves it from the ente
   * registry, checks it is a member of the tenant unione, and passes its facts as `payload.enteFacts`.
   */
  resolveEnte?: boolean;
  /**
   * The event records an act of an ente (a deliberation): the engine writes it to the act register in the same
   * transaction, and refuses the event (422 DELIBERATION_NUMBER_USED) if that ente already used the number for
   * that organ and year in any process.
   */
  registersAct?: (snapshot: AnyMachineSnapshot, event: MachineEvent) => ActRef | null;
}

export interface ActRef {
  ente: string;
  /** CC consiglio comunale, CU consiglio dell'unione, GU giunta dell'unione */
  organ: 'CC' | 'CU' | 'GU' | 'GC';
  number: string;
  date: string; // YYYY-MM-DD
}

export interface RuleRefusal {
  rule: string;
  message: string;
  field?: string;
}

/** The event a machine receives: payload validated, actor authorized, time given by the engine. */
export interface MachineEvent<T extends string = string, P = Record<string, unknown>> {
  type: T;
  payload: P;
  actor: ActorRecord;
  /** ISO instant at which the engine accepted the event: machines never read the clock */
  at: string;
}

export type TimerKind = 'reminder' | 'deadline';

/** A timer a state wants armed. The engine diffs this list with the armed rows after each transition. */
export interface TimerSpec {
  /** unique within the instance, stable across transitions, e.g. `deadline:c_g843` */
  key: string;
  kind: TimerKind;
  dueAt: string; // ISO instant
  event: { type: string; payload: Record<string, unknown> };
}

export type ProcessStatus = 'active' | 'completed' | 'failed' | 'terminated';

/** Who a notification is for: the organ or role of an ente. The notifications layer resolves addresses. */
export interface Recipient {
  ente: string;
  role: 'consiglio' | 'segretario' | 'sindaco' | 'presidente' | 'staff';
}

export interface ProcessDefinition<TInput extends object = object> {
  key: string;
  version: number;
  title: string;
  description: string;
  machine: AnyStateMachine;
  /** DTO for the start input */
  input: PayloadClass;
  /** roles that may start it; the actor's ente must be the unione named in the input */
  startRoles: readonly Role[];
  /** the unione (tenant) and participating entes named by a start input, resolved by the engine */
  inputEntes(input: TInput): { unione: string; members: string[] };
  /** every ente taking part (for authorization of ente-scoped events), recomputed after each transition */
  participants(snapshot: AnyMachineSnapshot): string[];
  /** the machine input, once the engine has resolved the entes named by the start input */
  machineInput(input: TInput, entes: ReadonlyMap<string, EnteFacts>): unknown;
  /** a one-line business summary for lists */
  titleOf(snapshot: AnyMachineSnapshot): string;
  events: Readonly<Record<string, EventSpec>>;
  /** timers the given snapshot wants armed (declarative: states arm timers, see DESIGN.md "Timers") */
  timers(snapshot: AnyMachineSnapshot): TimerSpec[];
  status(snapshot: AnyMachineSnapshot): ProcessStatus;
  /** a short denormalised state label for lists and filters */
  stateLabel(snapshot: AnyMachineSnapshot): string;
  /** entes that have something to do now (for "pending for my comune") */
  pendingEntes(snapshot: AnyMachineSnapshot): string[];
  /** the earliest deadline still open, for the overdue filter */
  nextDeadline(snapshot: AnyMachineSnapshot): string | null;
  /** the business view of the context for the API */
  view(snapshot: AnyMachineSnapshot): Record<string, unknown>;
  /**
   * How each kind of notification (the `template` of a notify effect) leaves Iter besides the in-app inbox:
   * its channel and who receives it (docs/notifications.md has the table). A kind missing here goes by PEC.
   */
  notifications?: Readonly<Record<string, NotificationSpec>>;
}

/** One row of a definition's notification table. */
export interface NotificationSpec {
  /**
   * `pec`: a formal notice, one message per ente to its PEC from the registry (the roles named in it);
   * `email`: informal, one message per recipient role to the personal e-mail the ente gives for that role
   * (`ente.contacts[role]`), to its PEC when it gives none.
   */
  channel: 'pec' | 'email';
  /** who receives it, in Italian (the docs table); the machine's notify effect names the actual recipients */
  recipients: string;
  /**
   * Recipients the definition adds to those the machine names (e.g. the Unione's presidente on every reminder),
   * given the machine's list and the tenant unione. Duplicates are dropped.
   */
  addRecipients?: (to: readonly Recipient[], unione: string) => Recipient[];
  /**
   * A system event the PEC *ricevuta di avvenuta consegna* of this notice feeds into the process, once per
   * receipt, with payload `{ ente, deliveredAt, receiptId }` (e.g. each council's term starts from its own
   * receipt of the text).
   */
  deliveryEvent?: string;
}

/** Extra facts the engine resolves before the machine starts (e.g. ente names and populations). */
export interface EnteFacts {
  codiceIpa: string;
  denominazione: string;
  kind: 'COMUNE' | 'UNIONE';
  popolazione: number | null;
}
