/**
 * The convention declares the RTD's start and its later-life signals as data (issue 12): `startProcess` the
 * first time it enters IN_FORCE, `signal` on a recesso taking effect, a late adhesion completed, expiry and
 * dissolution. Pure: `transition()` returns them as actions; `toProcessEffects` maps them.
 */
import 'reflect-metadata';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import {
  BIENTINA,
  PONTEDERA,
  VALDERA,
  approvedIeEvent,
  dissolutionEvent,
  freezeEvent,
  recessoEffectiveEvent,
  recessoEvent,
  sendEvent,
  signEvent,
  smallConventionInput,
} from '../../../../test/factories/convention.factory';
import { conventionMachine } from '../convention/convention.machine';
import { toProcessEffects, type ProcessEffect } from '../effects';

type Snap = SnapshotFrom<typeof conventionMachine>;
function step(s: Snap, e: unknown): [Snap, ProcessEffect[]] {
  const [next, actions] = transition(conventionMachine, s, e as never);
  return [next, toProcessEffects(actions)];
}
const ENTES = [VALDERA, BIENTINA, PONTEDERA];

function inForce(policy = {}): [Snap, ProcessEffect[]] {
  let [s] = initialTransition(conventionMachine, smallConventionInput(policy));
  [s] = step(s, freezeEvent('2026-01-28T11:00:00.000Z'));
  [s] = step(s, sendEvent('2026-02-05T10:00:00+01:00', '2026-02-05T09:30:00.000Z'));
  for (const [i, c] of ENTES.entries())
    [s] = step(s, approvedIeEvent(c, String(10 + i), '2026-03-02', '2026-03-03T08:00:00.000Z'));
  let effects: ProcessEffect[] = [];
  for (const c of ENTES)
    [s, effects] = step(s, signEvent(c, '2026-04-20T08:00:00.000Z', '2026-04-20T08:01:00.000Z'));
  return [s, effects];
}

describe('the convention’s effects on its RTD', () => {
  it('entering IN_FORCE the first time starts the RTD appointment', () => {
    const [s, effects] = inForce();
    expect(s.value).toBe('IN_FORCE');
    expect(effects).toEqual([
      {
        kind: 'startProcess',
        definition: 'rtd',
        relation: 'rtd',
        sourceField: 'convention',
        input: {},
      },
    ]);
  });

  it('a recesso taking effect signals the RTD to stop serving the comune on that date', () => {
    let [s] = inForce({ minComuni: 1, recessoNoticeDays: 30 });
    [s] = step(
      s,
      recessoEvent(BIENTINA, '40', '2026-05-01', '2026-07-01', '2026-05-01T08:00:00.000Z'),
    );
    const [after, effects] = step(
      s,
      recessoEffectiveEvent(BIENTINA, '2026-07-01', '2026-06-30T22:00:00.000Z'),
    );
    expect(after.value).toBe('IN_FORCE');
    expect(effects).toEqual([
      {
        kind: 'signal',
        relation: 'rtd',
        event: {
          type: 'rtd.ente.withdraw',
          payload: { ente: BIENTINA, date: '2026-07-01', reason: 'Recesso' },
        },
      },
    ]);
  });

  it('dissolution by every ente terminates the convention and ends the RTD appointment that day', () => {
    let [s] = inForce();
    let effects: ProcessEffect[] = [];
    for (const [i, c] of ENTES.entries())
      [s, effects] = step(
        s,
        dissolutionEvent(c, String(60 + i), '2026-09-01', '2026-09-02T08:00:00.000Z'),
      );
    expect(s.value).toBe('TERMINATED');
    expect(effects).toEqual([
      expect.objectContaining({
        kind: 'signal',
        event: {
          type: 'rtd.convention.end',
          payload: { date: '2026-09-02', reason: expect.stringContaining('Scioglimento') },
        },
      }),
    ]);
  });

  it('expiry ends the RTD appointment the day after the last day of the term', () => {
    const [s] = inForce({ durationYears: 1 });
    const [after, effects] = step(s, {
      type: 'convention.expire',
      payload: { date: '2027-04-20' },
      actor: { subject: 'system', role: 'system', ente: null },
      at: '2027-04-20T00:00:00.000Z',
    });
    expect(after.value).toBe('EXPIRED');
    expect(effects).toEqual([
      expect.objectContaining({
        kind: 'signal',
        event: {
          type: 'rtd.convention.end',
          payload: expect.objectContaining({ date: '2027-04-20' }),
        },
      }),
    ]);
  });
});
