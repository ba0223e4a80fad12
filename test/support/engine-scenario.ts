import type { Actor, Clock } from '@app/common';
import type { Engine, ProcessView } from '@app/engine';
import { CONVENTION_TEXT } from './scenario';

/** The presidente of an unione, as the engine sees the actor (engine-level tests, no HTTP). */
export const presidenteOf = (unione: string): Actor => ({
  subject: 'presidente',
  roles: ['presidente'],
  ente: unione,
  unione,
});

/**
 * A convention started, its text frozen and sent to the councils through the engine alone: IN_DELIBERATION with
 * every ente's deadline (and reminders) armed; the send's answer. The PEC delivery is dated a minute after the freeze when a
 * movable clock is given (it is moved), "now" otherwise.
 */
export async function sentConvention(
  engine: Engine,
  u: { ipa: string; comuni: string[] },
  title: string,
  clock?: Clock & { advance(ms: number): void },
): Promise<ProcessView> {
  const presidente = presidenteOf(u.ipa);
  const p = await engine.start(
    { definition: 'convenzione', input: { title, unione: u.ipa, members: u.comuni } },
    presidente,
  );
  await engine.dispatch(
    p.id,
    { type: 'convention.freeze', payload: { text: CONVENTION_TEXT } },
    presidente,
  );
  clock?.advance(60_000);
  return engine.dispatch(
    p.id,
    {
      type: 'convention.send',
      payload: { deliveredAt: (clock ?? { now: () => new Date() }).now().toISOString() },
    },
    presidente,
  );
}
