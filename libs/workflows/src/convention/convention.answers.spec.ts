/**
 * Issue 10, "Answers", pure: Rome dates at the Rome/UTC boundary (also across DST), reminders never at or after
 * their deadline, the day a NON_ADERENTE left, the Saturday policy, the status and the participants of the view.
 * xstate's `initialTransition` / `transition` only; time arrives as `event.at`.
 */
import 'reflect-metadata';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import {
  BIENTINA,
  PONTEDERA,
  SCHEMA_TEXT_V1,
  VALDERA,
  approvedEvent,
  approvedIeEvent,
  expireEvent,
  freezeEvent,
  reminderEvent,
  sendEvent,
  signEvent,
  smallConventionInput,
} from '../../../../test/factories/convention.factory';
import type { ConventionPolicy } from './convention.types';
import { conventionDefinitionV1, conventionStateLabel } from './convention.definition';
import { conventionMachine } from './convention.machine';
import { checkDeliberation, checkSend, checkSign, reminderNotAfter } from './convention.rules';
import type { ConventionEvent } from './convention.types';

type Snap = SnapshotFrom<typeof conventionMachine>;

const start = (policy: Partial<ConventionPolicy> = {}): Snap =>
  initialTransition(conventionMachine, smallConventionInput(policy))[0];

function play(from: Snap, events: readonly ConventionEvent[]): Snap {
  let s = from;
  for (const e of events) {
    const [next] = transition(conventionMachine, s, e);
    if (next === s) throw new Error(`refused: ${e.type} at ${e.at}`);
    s = next;
  }
  return s;
}
const refused = (s: Snap, e: ConventionEvent): boolean =>
  transition(conventionMachine, s, e)[0] === s;
const row = (s: Snap, ente: string) => s.context.entes.find((e) => e.codiceIpa === ente)!;

describe('every date-only value is a date in Europe/Rome', () => {
  /** frozen at 09:00 Rome on `day` (08:00Z in winter, 07:00Z in summer) */
  const frozen = (freezeAt: string): Snap => play(start(), [freezeEvent(freezeAt)]);

  it('deliveredAt "2026-03-10" after a freeze at 09:00 Rome the same day is accepted (not midnight UTC)', () => {
    const s = frozen('2026-03-10T08:00:00.000Z');
    const send = sendEvent('2026-03-10', '2026-03-10T09:00:00.000Z');
    expect(checkSend(s.context, send)).toBeNull();
    const next = play(s, [send]);
    expect(conventionStateLabel(next)).toBe('IN_DELIBERATION');
    // the term runs from 10 March: 60 days → Sat 9 May 2026 (Saturday is a working day by default)
    expect(row(next, BIENTINA).deadline?.date).toBe('2026-05-09');
  });

  it('the day before the freeze is refused as DELIVERY_BEFORE_FREEZE', () => {
    const s = frozen('2026-03-10T08:00:00.000Z');
    expect(checkSend(s.context, sendEvent('2026-03-09', '2026-03-10T09:00:00.000Z'))?.rule).toBe(
      'DELIVERY_BEFORE_FREEZE',
    );
  });

  it.each([
    // 00:30 in Rome is 23:30 UTC of the day before in winter (CET, +01:00)
    ['winter', '2026-03-09T08:00:00.000Z', '2026-03-09T23:30:00.000Z', '2026-03-10', '2026-03-11'],
    // the night DST starts (29 March 2026: 02:00 → 03:00): 00:30 is still CET
    [
      'the DST night',
      '2026-03-27T08:00:00.000Z',
      '2026-03-28T23:30:00.000Z',
      '2026-03-29',
      '2026-03-30',
    ],
    // summer (CEST, +02:00): 00:30 in Rome is 22:30 UTC of the day before
    ['summer', '2026-07-09T07:00:00.000Z', '2026-07-09T22:30:00.000Z', '2026-07-10', '2026-07-11'],
    // the night DST ends (25 October 2026)
    [
      'the DST end',
      '2026-10-23T07:00:00.000Z',
      '2026-10-24T22:30:00.000Z',
      '2026-10-25',
      '2026-10-26',
    ],
  ])(
    '%s: at 00:30 Rome "today" (Rome) is accepted, tomorrow is DELIVERY_IN_FUTURE',
    (_when, freezeAt, at, today, tomorrow) => {
      const s = frozen(freezeAt);
      expect(checkSend(s.context, sendEvent(today, at))).toBeNull();
      expect(checkSend(s.context, sendEvent(tomorrow, at))?.rule).toBe('DELIVERY_IN_FUTURE');
      // an instant a minute after now is in the future, whatever its date
      const later = new Date(Date.parse(at) + 60_000).toISOString();
      expect(checkSend(s.context, sendEvent(later, at))?.rule).toBe('DELIVERY_IN_FUTURE');
      // a wall-clock time without offset is Rome time: 00:10 Rome today is before 00:30 Rome
      expect(checkSend(s.context, sendEvent(`${today}T00:10:00`, at))).toBeNull();
      expect(checkSend(s.context, sendEvent(`${today}T00:40:00`, at))?.rule).toBe(
        'DELIVERY_IN_FUTURE',
      );
      const next = play(s, [sendEvent(today, at)]);
      expect(next.context.sentAt).toBe(today);
    },
  );

  it('signedAt "today" at 00:30 Rome is accepted and stored as the start of that day in Rome', () => {
    // IE approvals on 5 March, then everything is executive: READY_TO_SIGN
    const s = play(start(), [
      freezeEvent('2026-03-01T08:00:00.000Z'),
      sendEvent('2026-03-02', '2026-03-02T09:00:00.000Z'),
      ...[VALDERA, BIENTINA, PONTEDERA].map((e, i) =>
        approvedIeEvent(e, String(i + 1), '2026-03-05', '2026-03-05T18:00:00.000Z'),
      ),
    ]);
    expect(conventionStateLabel(s)).toBe('READY_TO_SIGN');
    const at = '2026-03-09T23:30:00.000Z'; // 00:30 on 10 March in Rome
    expect(checkSign(s.context, signEvent(BIENTINA, '2026-03-10', at))).toBeNull();
    expect(checkSign(s.context, signEvent(BIENTINA, '2026-03-11', at))?.rule).toBe(
      'SIGNATURE_IN_FUTURE',
    );
    expect(checkSign(s.context, signEvent(BIENTINA, '2026-03-04', at))?.rule).toBe(
      'SIGNATURE_BEFORE_EXECUTIVITY',
    );
    const next = play(s, [signEvent(BIENTINA, '2026-03-10', at)]);
    expect(row(next, BIENTINA).signature?.signedAt).toBe('2026-03-09T23:00:00.000Z');
  });
});

describe('reminders: never at or after the deadline, never once a closer one is due', () => {
  const inDeliberation = play(start(), [
    freezeEvent('2026-01-28T11:00:00.000Z'),
    sendEvent('2026-02-05T10:00:00+01:00', '2026-02-05T09:30:00.000Z'),
  ]);
  const deadline = row(inDeliberation, PONTEDERA).deadline!; // Tue 7 April 2026, 23:59:59.999 Rome

  it('the window of each reminder ends at the next closer reminder, the last one at the deadline', () => {
    expect(deadline.dueAt).toBe('2026-04-07T21:59:59.999Z');
    expect(reminderNotAfter([15, 7, 1], deadline, 15)).toBe('2026-03-31T07:00:00.000Z');
    expect(reminderNotAfter([15, 7, 1], deadline, 7)).toBe('2026-04-06T07:00:00.000Z');
    expect(reminderNotAfter([15, 7, 1], deadline, 1)).toBe(deadline.dueAt);
  });

  it('the machine takes a reminder inside its window and refuses it after, with no effect', () => {
    const onTime = reminderEvent(PONTEDERA, 15, '2026-03-23T08:00:00.000Z');
    expect(row(play(inDeliberation, [onTime]), PONTEDERA).remindersSent).toBe(1);
    // at the deadline, after it, or once the T-7 reminder is due: refused
    for (const at of ['2026-04-07T21:59:59.999Z', '2026-04-09T08:00:00.000Z']) {
      for (const n of [15, 7, 1])
        expect(refused(inDeliberation, reminderEvent(PONTEDERA, n, at))).toBe(true);
    }
    expect(refused(inDeliberation, reminderEvent(PONTEDERA, 15, '2026-03-31T07:00:00.000Z'))).toBe(
      true,
    );
    expect(refused(inDeliberation, reminderEvent(PONTEDERA, 1, '2026-04-07T21:59:59.998Z'))).toBe(
      false,
    );
  });

  it('the timers carry the window: the engine cancels a job that runs after it', () => {
    const reminders = conventionDefinitionV1
      .timers(inDeliberation)
      .filter((t) => t.key.startsWith(`reminder:${PONTEDERA}:`));
    expect(reminders.map((t) => [t.key, t.dueAt, t.notAfter])).toEqual([
      [`reminder:${PONTEDERA}:15`, '2026-03-23T08:00:00.000Z', '2026-03-31T07:00:00.000Z'],
      [`reminder:${PONTEDERA}:7`, '2026-03-31T07:00:00.000Z', '2026-04-06T07:00:00.000Z'],
      [`reminder:${PONTEDERA}:1`, '2026-04-06T07:00:00.000Z', deadline.dueAt],
    ]);
  });
});

describe('a NON_ADERENTE left on the day its term ended', () => {
  it('however late the deadline timer was processed', () => {
    const s0 = play(
      start({
        approval: 'QUORUM',
        quorumMinEntes: 1,
        nonDeliberating: 'EXTEND_ONCE_THEN_NON_ADERENTE',
      }),
      [
        freezeEvent('2026-01-28T11:00:00.000Z'),
        sendEvent('2026-02-05T10:00:00+01:00', '2026-02-05T09:30:00.000Z'),
      ],
    );
    const first = row(s0, PONTEDERA).deadline!;
    // the worker was down: the first expiry runs two days late, the second a week late
    const s1 = play(s0, [expireEvent(PONTEDERA, first.dueAt, '2026-04-09T08:00:00.000Z')]);
    const extended = row(s1, PONTEDERA).deadline!;
    expect(extended.date).toBe('2026-05-07');
    const s2 = play(s1, [expireEvent(PONTEDERA, extended.dueAt, '2026-05-14T08:00:00.000Z')]);
    expect(row(s2, PONTEDERA)).toMatchObject({ status: 'NON_ADERENTE', leftOn: '2026-05-07' });
  });
});

describe('a deliberation after the final term is out of term, whether or not the timer ran (EXTEND_ONCE)', () => {
  // delivered Thu 5 Feb 2026: term Tue 7 Apr (Easter Monday shift), extended once by 30 days → Thu 7 May
  const sent = play(start({ nonDeliberating: 'EXTEND_ONCE_THEN_NON_ADERENTE' }), [
    freezeEvent('2026-01-28T11:00:00.000Z'),
    sendEvent('2026-02-05T10:00:00+01:00', '2026-02-05T09:30:00.000Z'),
  ]);
  const late = approvedEvent(PONTEDERA, '7', '2026-05-08', '2026-05-09T08:00:00.000Z');

  it('before the first expiry ran: within the extension it is accepted, after it refused', () => {
    expect(row(sent, PONTEDERA).deadline?.date).toBe('2026-04-07');
    expect(
      checkDeliberation(
        sent.context,
        approvedEvent(PONTEDERA, '7', '2026-05-07', '2026-05-08T08:00:00.000Z'),
      ),
    ).toBeNull();
    expect(checkDeliberation(sent.context, late)).toMatchObject({
      rule: 'DELIBERATION_AFTER_DEADLINE',
      field: 'payload.date',
      message: expect.stringContaining('2026-05-07') as string,
    });
  });

  it('after the extension, before the second expiry ran: refused, and the council lapses as NON_ADERENTE', () => {
    const d = row(sent, PONTEDERA).deadline!;
    const extended = play(sent, [expireEvent(PONTEDERA, d.dueAt, d.dueAt)]);
    expect(row(extended, PONTEDERA).deadline?.date).toBe('2026-05-07');
    expect(refused(extended, late)).toBe(true);
    const d2 = row(extended, PONTEDERA).deadline!;
    const out = play(extended, [expireEvent(PONTEDERA, d2.dueAt, '2026-05-09T09:00:00.000Z')]);
    expect(row(out, PONTEDERA)).toMatchObject({ status: 'NON_ADERENTE', leftOn: '2026-05-07' });
  });

  it('under STALL a late deliberation is still welcome', () => {
    const stall = play(start({ nonDeliberating: 'STALL' }), [
      freezeEvent('2026-01-28T11:00:00.000Z'),
      sendEvent('2026-02-05T10:00:00+01:00', '2026-02-05T09:30:00.000Z'),
    ]);
    expect(checkDeliberation(stall.context, late)).toBeNull();
  });
});

describe('saturdayExtends (DOMAIN.md §4.1) is a policy of the process, off by default', () => {
  // delivered Tue 7 July 2026: 60 days → Sat 5 September 2026
  const send = sendEvent('2026-07-07', '2026-07-07T10:00:00.000Z');
  const deadlineWith = (policy: Partial<ConventionPolicy>) =>
    row(play(start(policy), [freezeEvent('2026-07-01T08:00:00.000Z'), send]), BIENTINA).deadline!
      .date;

  it('a term ending on a Saturday stays on Saturday by default', () => {
    expect(smallConventionInput().policy.saturdayExtends).toBe(false);
    expect(deadlineWith({})).toBe('2026-09-05');
  });

  it('with saturdayExtends it moves to Monday', () => {
    expect(deadlineWith({ saturdayExtends: true })).toBe('2026-09-07');
  });

  it.each([
    [false, '2026-10-03'],
    [true, '2026-10-05'],
  ])(
    'the extension of a term follows the policy too (saturdayExtends %s)',
    (saturdayExtends, end) => {
      // delivered Sun 5 July: 60 days → Thu 3 September; extended by 30 days → Sat 3 October
      const s = play(start({ saturdayExtends, nonDeliberating: 'EXTEND_ONCE_THEN_NON_ADERENTE' }), [
        freezeEvent('2026-07-01T08:00:00.000Z'),
        sendEvent('2026-07-05', '2026-07-06T10:00:00.000Z'),
      ]);
      const d = row(s, BIENTINA).deadline!;
      expect(d.date).toBe('2026-09-03');
      const next = play(s, [expireEvent(BIENTINA, d.dueAt, d.dueAt)]);
      expect(row(next, BIENTINA).deadline?.date).toBe(end);
    },
  );
});

describe('status and participants', () => {
  const inForce = play(start(), [
    freezeEvent('2026-03-01T08:00:00.000Z'),
    sendEvent('2026-03-02', '2026-03-02T09:00:00.000Z'),
    ...[VALDERA, BIENTINA, PONTEDERA].map((e, i) =>
      approvedIeEvent(e, String(i + 1), '2026-03-05', '2026-03-05T18:00:00.000Z'),
    ),
    ...[VALDERA, BIENTINA, PONTEDERA].map((e) =>
      signEvent(e, '2026-03-10T09:00:00.000Z', '2026-03-10T09:00:00.000Z'),
    ),
  ]);

  it('a convention in force and alive is in_force, not completed', () => {
    expect(conventionStateLabel(inForce)).toBe('IN_FORCE');
    expect(conventionDefinitionV1.status(inForce)).toBe('in_force');
  });

  it('the view lists the entes taking part', () => {
    expect(conventionDefinitionV1.view(inForce)).toMatchObject({
      participants: [VALDERA, BIENTINA, PONTEDERA],
      joining: [],
    });
  });

  it('a comune that left is not a participant', () => {
    const s0 = play(
      start({
        approval: 'QUORUM',
        quorumMinEntes: 1,
        nonDeliberating: 'EXTEND_ONCE_THEN_NON_ADERENTE',
      }),
      [
        freezeEvent('2026-01-28T11:00:00.000Z'),
        sendEvent('2026-02-05T10:00:00+01:00', '2026-02-05T09:30:00.000Z'),
      ],
    );
    const d1 = row(s0, PONTEDERA).deadline!;
    const s1 = play(s0, [expireEvent(PONTEDERA, d1.dueAt, d1.dueAt)]);
    const d2 = row(s1, PONTEDERA).deadline!;
    const s2 = play(s1, [expireEvent(PONTEDERA, d2.dueAt, d2.dueAt)]);
    expect(conventionDefinitionV1.view(s2)['participants']).toEqual([VALDERA, BIENTINA]);
    expect(conventionDefinitionV1.status(s2)).toBe('active');
  });
});

// keep the text import used: the approvals above are of SCHEMA_TEXT_V1 (the factory's default hash)
void SCHEMA_TEXT_V1;
