import type { Recipient } from './definition';

/** Effects are data: machines declare them, the engine persists them (outbox) and performs them. */
export interface NotifyEffect {
  kind: 'notify';
  template: string;
  to: Recipient[];
  data: Record<string, unknown>;
}
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
