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

/**
 * One event of a definition, written once: type (the key in `ProcessDefinition.events`), payload DTO, roles,
 * scope and rule. Everything else is derived from it: the machine's guard for the event (`ruleGuard`), the
 * engine's check before `transition()` (422 RULE_VIOLATION with the rule's code), the list of events a caller
 * may send now (`allowedEvents`: authorization + `precondition`), the authorization matrix and the API docs.
 *
 * Rules are written once as an `EventRule` over the machine's context (see `specRule` and `ruleGuard` below);
 * the machine never has a guard of its own for an event a person sends, so the answer, the list and the
 * machine cannot disagree (the engine's GUARD_REFUSED is only a safety net that no reachable state hits).
 */
export interface EventSpec {
  /** one line, for the API docs and the allowed-events list */
  description: string;
  /** roles that may send it (any of). Ignored for `system` scope. */
  roles: readonly Role[];
  scope: EventScope;
  /** class-validator DTO for the payload; `undefined` means the event takes no payload */
  payload?: PayloadClass;
  /**
   * THE domain rule of the event, checked after the state accepts the event and before it is sent: returns a
   * refusal (422 RULE_VIOLATION, `details.rule`) or null. It starts with `precondition`. Built with
   * `specRule(eventRule, ctxOf)`; the machine's guard for the event calls the same `eventRule` (`ruleGuard`).
   */
  rule?: (snapshot: AnyMachineSnapshot, event: MachineEvent) => RuleRefusal | null;
  /**
   * The part of `rule` that does not depend on the payload's details: may this event be sent now, and for
   * `ente`-scoped events by/for `ente`? `allowedEvents` lists an event only when it returns null (with the
   * caller's ente as `ente` for the `ente` scope, `undefined` otherwise). Absent: always possible.
   */
  precondition?: (snapshot: AnyMachineSnapshot, ente: string | undefined) => RuleRefusal | null;
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

/**
 * A rule written once, over the machine's context `C`:
 * - `precondition(context, ente)`: payload-independent (what state the process and that ente are in);
 *   `ente` is `payload.ente` when the payload has one (for `ente`-scoped events: the ente acting);
 * - `check(context, event)`: the payload's details (dates, hashes, votes), run only after `precondition`.
 * `evaluateRule` runs both; `ruleGuard` makes the machine's guard of it, `specRule` the EventSpec fields.
 */
export interface EventRule<C, E extends MachineEvent = MachineEvent> {
  precondition?: (context: C, ente: string | undefined) => RuleRefusal | null;
  check?: (context: C, event: E) => RuleRefusal | null;
}

/** A table of rules by event type (events without a rule are always allowed by it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RuleTable<C> = Readonly<Record<string, EventRule<C, any> | undefined>>;

const payloadEnte = (event: MachineEvent): string | undefined => {
  const ente = (event.payload as Record<string, unknown> | undefined)?.['ente'];
  return typeof ente === 'string' ? ente : undefined;
};

/** Evaluate a rule: its precondition (with `payload.ente`), then its payload check. */
export function evaluateRule<C, E extends MachineEvent>(
  rule: EventRule<C, E> | undefined,
  context: C,
  event: E,
): RuleRefusal | null {
  if (!rule) return null;
  return rule.precondition?.(context, payloadEnte(event)) ?? rule.check?.(context, event) ?? null;
}

/**
 * The machine's guard for every event a person sends: `guards: { rule: ruleGuard(RULES) }` and
 * `on: { 'x.y': { guard: 'rule', ... } }`. The machine refuses exactly what the rule refuses.
 */
export function ruleGuard<C>(
  rules: RuleTable<C>,
): (args: { context: C; event: { type: string } }) => boolean {
  return ({ context, event }) =>
    evaluateRule(rules[event.type], context, event as MachineEvent) === null;
}

/** The EventSpec fields (`rule`, `precondition`) of a rule, for a definition whose snapshot holds `C`. */
export function specRule<C>(
  rule: EventRule<C, never> | undefined,
  contextOf: (snapshot: AnyMachineSnapshot) => C,
): Pick<EventSpec, 'rule' | 'precondition'> {
  if (!rule) return {};
  const r = rule as unknown as EventRule<C>;
  return {
    rule: (s, ev) => evaluateRule(r, contextOf(s), ev),
    ...(r.precondition ? { precondition: (s, ente) => r.precondition!(contextOf(s), ente) } : {}),
  };
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
  /**
   * ISO instant from which firing is pointless (a reminder at or after its deadline, or once a closer reminder
   * is due): a job that runs that late is cancelled, never delivered. Absent: no limit.
   */
  notAfter?: string;
  event: { type: string; payload: Record<string, unknown> };
}

/**
 * Where a process stands, for lists and filters:
 * - `active`: a procedure is under way (for a convention: its approval, or an amendment of it while in force);
 * - `in_force`: its outcome is in effect and it is still alive (a convention in force: recesso, adhesions,
 *   renewal, dissolution, expiry may still come) — not over, so not `completed`;
 * - `completed`: over, with its outcome reached (no later life);
 * - `failed`: over without its outcome; `terminated`: ended (abandoned, expired, dissolved).
 */
export const PROCESS_STATUSES = [
  'active',
  'in_force',
  'completed',
  'failed',
  'terminated',
] as const;
export type ProcessStatus = (typeof PROCESS_STATUSES)[number];

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
