import type { Recipient } from './definition';

/** Effects are data: machines declare them, the engine persists them (outbox) and performs them. */
export interface NotifyEffect {
  kind: 'notify';
  template: string;
  to: Recipient[];
  data: Record<string, unknown>;
}
/**
 * Start another process (e.g. the RTD appointment when a convention enters IN_FORCE). Written as a
 * process_effect row in the step's transaction and carried out once by the worker: the new process's input
 * gets `sourceField` = this instance's id, and the link (relation) is stored with the start.
 */
export interface StartProcessEffect {
  kind: 'startProcess';
  definition: string;
  relation: string;
  sourceField: string;
  input: Record<string, unknown>;
}
/** Send a system event to the process linked to this one by `relation` (e.g. a recesso reaching the RTD). */
export interface SignalEffect {
  kind: 'signal';
  relation: string;
  event: { type: string; payload: Record<string, unknown> };
}
export type ProcessEffect = StartProcessEffect | SignalEffect;
export type Effect = NotifyEffect;

interface ActionLike {
  type: string;
  params?: unknown;
}

/** Map the executable actions returned by xstate `transition()` to our effect union. */
export function toEffects(actions: readonly ActionLike[]): Effect[] {
  const out: Effect[] = [];
  for (const a of actions) {
    if (a.type === 'notify' && a.params && typeof a.params === 'object') {
      const p = a.params as { template: string; to: Recipient[]; data?: Record<string, unknown> };
      if (p.to.length > 0)
        out.push({ kind: 'notify', template: p.template, to: p.to, data: p.data ?? {} });
    }
  }
  return out;
}

export interface NotifyParams {
  template: string;
  to: Recipient[];
  data?: Record<string, unknown>;
}

export type StartProcessParams = Omit<StartProcessEffect, 'kind'> | { skip: true };
export type SignalParams = Omit<SignalEffect, 'kind'> | { skip: true };

/** Map the executable actions returned by xstate `transition()` to the process effects (start, signal). */
export function toProcessEffects(actions: readonly ActionLike[]): ProcessEffect[] {
  const out: ProcessEffect[] = [];
  for (const a of actions) {
    if (!a.params || typeof a.params !== 'object' || 'skip' in a.params) continue;
    if (a.type === 'startProcess')
      out.push({ kind: 'startProcess', ...(a.params as Omit<StartProcessEffect, 'kind'>) });
    else if (a.type === 'signal')
      out.push({ kind: 'signal', ...(a.params as Omit<SignalEffect, 'kind'>) });
  }
  return out;
}
