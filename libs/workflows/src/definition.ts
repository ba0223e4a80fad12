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
export type EventScope = 'unione' | 'ente' | 'system' | 'appointee';
// `appointee`: only the person the process names (ProcessDefinition.appointee: token `sub` = their codice
// fiscale), with a role in `roles`, working in the tenant unione.

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
  organ: 'CC' | 'CU' | 'GU' | 'GC' | 'PU' | 'DT';
  // PU decreto del Presidente dell'Unione, DT determina dirigenziale
  number: string;
  date: string; // YYYY-MM-DD
}

export interface RuleRefusal {
  rule: string;
  message: string;
  field?: string;
  /** extra, JSON-safe detail merged into the error's `details` (e.g. `{ requirement: 'competenze.giuridiche' }`) */
  details?: Record<string, unknown>;
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
  role: 'consiglio' | 'segretario' | 'sindaco' | 'presidente' | 'staff' | 'appointee';
  // `appointee`: the person named by the process (e.g. the RTD); the notify data carries their name, PEC and e-mail
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
  /** the unione (tenant) and participating entes named by a start input (and the prerequisite process, if any) */
  inputEntes(input: TInput, linked?: LinkedProcess): { unione: string; members: string[] };
  /** every ente taking part (for authorization of ente-scoped events), recomputed after each transition */
  participants(snapshot: AnyMachineSnapshot): string[];
  /** the machine input, once the engine has resolved the entes named by the start input */
  machineInput(
    input: TInput,
    entes: ReadonlyMap<string, EnteFacts>,
    linked?: LinkedProcess,
  ): unknown;
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
  /** the business view of the context for the API (`now`: the engine clock, for "days since" figures) */
  view(snapshot: AnyMachineSnapshot, now?: Date): Record<string, unknown>;
  /**
   * A process that may start only on top of another one (the RTD on a convention in force): the start input
   * names it, the engine loads it, `check` may refuse the start (422 RULE_VIOLATION), and the link is stored.
   */
  prerequisite?: PrerequisiteSpec;
  /** a business key derived from the start input (one RTD process per convention): a caller cannot choose another */
  businessKeyOf?(input: TInput): string;
  /** the codice fiscale of the person named by the process, who may send `appointee`-scoped events */
  appointee?(snapshot: AnyMachineSnapshot): string | null;
  /** timers each state arms, for the diagram (when the machine's states do not carry `meta.timers`) */
  timerDocs?: Readonly<Record<string, readonly string[]>>;
  /** each ente's own branch (a small machine of its own), for the instance diagram */
  branches?: {
    machine: AnyStateMachine;
    title: string;
    of(snapshot: AnyMachineSnapshot): { ente: string; state: string }[];
  };
}

/** The process another one starts on (e.g. the RTD's convention), as the engine loaded it. */
export interface LinkedProcess {
  instanceId: string;
  definition: string;
  tenant: string;
  snapshot: AnyMachineSnapshot;
}

export interface PrerequisiteSpec {
  /** definition key of the process the start input names */
  definition: string;
  /** the start input field that carries its instance id */
  inputField: string;
  /** how the link is stored (process_link.relation, from the prerequisite to the new process) */
  relation: string;
  /** refuse the start (rule code) unless the linked process allows it now */
  check(linked: LinkedProcess, at: string): RuleRefusal | null;
}

/** Extra facts the engine resolves before the machine starts (e.g. ente names and populations). */
/**
 * A machine guard that calls an EventSpec rule: the rule is the single source of the decision, the guard
 * only says "no refusal" (so the machine, the 422 answer and allowedEvents cannot disagree). A rule used as a
 * guard reads only `snapshot.context` (a guard sees the context, not the whole snapshot).
 */
export const guardFromRule =
  (rule: NonNullable<EventSpec['rule']>) =>
  ({ context, event }: { context: unknown; event: unknown }): boolean =>
    rule({ context } as AnyMachineSnapshot, event as MachineEvent) === null;

export interface EnteFacts {
  codiceIpa: string;
  denominazione: string;
  kind: 'COMUNE' | 'UNIONE';
  popolazione: number | null;
}
