/**
 * The RTD machine (DOMAIN.md §3.4), pure: `initialTransition`/`transition`, no actor, no clock.
 * Fixture: the Unione Bassa Reggiana (DOMAIN.md §6.4), 8 comuni + the Unione, convention in force since
 * 1 Jan 2026; the first RTD (EQ, the Unione has no dirigenti) is appointed from 1 Feb 2026.
 */
import 'reflect-metadata';
import { initialTransition, transition, type AnyMachineSnapshot, type SnapshotFrom } from 'xstate';
import { addCalendarDays, atRomeTime, endOfDayRome } from '@app/calendar';
import {
  ALL_DECLARATIONS,
  BASSA_REGGIANA,
  BR_ALL,
  CF_FIRST,
  CF_SECOND,
  STAFF,
  actor,
  candidatePayload,
  decreePayload,
  ev,
  rtdInput,
} from '../../../../test/factories/rtd.factory';
import { rtdGraphPaths } from '../../../../test/factories/rtd-graph.factory';
import type { MachineEvent } from '../definition';
import { toEffects } from '../effects';
import { rtdDefinitionV1, rtdStateLabel, rtdTimers } from './rtd.definition';
import { rtdEnteMachine, stepBranch } from './rtd.ente.machine';
import { rtdMachine } from './rtd.machine';
import { REQUIREMENTS, RTD_RULES } from './rtd.rules';
import type { RtdInput } from './rtd.types';

type Snap = SnapshotFrom<typeof rtdMachine>;
const label = (s: AnyMachineSnapshot) => rtdStateLabel(s);
const ctx = (s: Snap) => s.context;

function start(input: RtdInput = rtdInput()): [Snap, ReturnType<typeof toEffects>] {
  const [s, actions] = initialTransition(rtdMachine, input);
  return [s, toEffects(actions)];
}
function step(s: Snap, e: MachineEvent): [Snap, ReturnType<typeof toEffects>] {
  const [next, actions] = transition(rtdMachine, s, e as never);
  return [next, toEffects(actions)];
}
/** the step must be taken (the machine changed) */
function ok(s: Snap, e: MachineEvent): Snap {
  const [next] = step(s, e);
  if (next === s) throw new Error(`${e.type} refused in ${label(s)}`);
  return next;
}
const AT = (d: string) => `${d}T09:00:00.000Z`;
const appointee = actor('appointee', BASSA_REGGIANA, CF_FIRST);
const segretario = (ente: string) => actor('segretario', ente);

/** VACANT → … → ACTIVE for the 9 entes of the Bassa Reggiana */
function active(): Snap {
  let [s] = start();
  s = ok(s, ev('rtd.candidate.select', candidatePayload(), AT('2026-01-10'), STAFF));
  s = ok(s, ev('rtd.decree.issue', decreePayload(), AT('2026-01-20')));
  s = ok(
    s,
    ev(
      'rtd.notification.record',
      { deliveredAt: '2026-01-21T10:00:00+01:00' },
      AT('2026-01-21'),
      STAFF,
    ),
  );
  s = ok(s, ev('rtd.accept', ALL_DECLARATIONS, AT('2026-01-23'), appointee));
  s = ok(
    s,
    ev(
      'rtd.publication.record',
      { channel: 'ALBO', date: '2026-01-24', reference: 'Albo 112/2026' },
      AT('2026-01-24'),
      STAFF,
    ),
  );
  s = ok(
    s,
    ev(
      'rtd.publication.record',
      {
        channel: 'AMMINISTRAZIONE_TRASPARENTE',
        date: '2026-01-26',
        reference: 'AT › Organizzazione',
      },
      AT('2026-01-26'),
      STAFF,
    ),
  );
  for (const e of BR_ALL)
    s = ok(
      s,
      ev(
        'rtd.ipa.confirm',
        { ente: e, registeredOn: '2026-02-02' },
        AT('2026-02-02'),
        segretario(e),
      ),
    );
  return s;
}

describe('RTD machine: appointment of the Bassa Reggiana’s RTD', () => {
  it('starts VACANT, alerts at once and arms the decree deadline (30 days from the decorrenza)', () => {
    const [s, effects] = start();
    expect(label(s)).toBe('VACANT');
    expect(effects).toEqual([
      expect.objectContaining({
        template: 'rtd.vacancy',
        to: expect.arrayContaining([
          { ente: BASSA_REGGIANA, role: 'presidente' },
          { ente: 'c_e253', role: 'segretario' },
        ]),
      }),
    ]);
    expect(ctx(s).vacancy).toMatchObject({ since: '2026-01-01', alerted: true, reason: 'AVVIO' });
    // 30 days from Thu 1 Jan 2026 → Sat 31 Jan (a working day for administrative terms)
    expect(rtdTimers(s).map((t) => [t.key, t.dueAt])).toEqual([
      ['decree', endOfDayRome('2026-01-31').toISOString()],
      ['reminder:decree:2', atRomeTime('2026-01-29', 9).toISOString()],
    ]);
  });

  it('walks VACANT → CANDIDATE_SELECTED → APPOINTED → ACCEPTED → PUBLISHED → ACTIVE with IPA for all 9 entes', () => {
    let [s] = start();
    s = ok(s, ev('rtd.candidate.select', candidatePayload(), AT('2026-01-10'), STAFF));
    expect(label(s)).toBe('CANDIDATE_SELECTED');
    let effects: ReturnType<typeof toEffects> = [];
    [s, effects] = step(s, ev('rtd.decree.issue', decreePayload(), AT('2026-01-20')));
    expect(label(s)).toBe('APPOINTED');
    expect(s.matches({ IN_OFFICE: { APPOINTED: 'NOTIFICATION_PENDING' } })).toBe(true);
    // the decree is notified to the appointee (PEC address in the data for the channel)
    expect(effects).toContainEqual(
      expect.objectContaining({
        template: 'rtd.decree-issued',
        to: expect.arrayContaining([{ ente: BASSA_REGGIANA, role: 'appointee' }]),
        data: expect.objectContaining({
          appointee: expect.objectContaining({
            pec: 'mario.rossi@pec.bassareggiana.invalid',
            codiceFiscale: CF_FIRST,
          }),
        }),
      }),
    );
    expect(ctx(s).current).toMatchObject({
      startDate: '2026-02-01',
      endDate: '2028-01-31',
      seq: 1,
    });
    expect(ctx(s).vacancies).toEqual([
      { since: '2026-01-01', filledOn: '2026-02-01', days: 31, reason: 'AVVIO' },
    ]);
    expect(
      rtdTimers(s)
        .map((t) => t.key)
        .sort(),
    ).toEqual(['acceptance', 'reminder:acceptance:2', 'term-end']);

    s = ok(
      s,
      ev(
        'rtd.notification.record',
        { deliveredAt: '2026-01-21T10:00:00+01:00' },
        AT('2026-01-21'),
        STAFF,
      ),
    );
    // 10 days from the PEC delivery (Wed 21 Jan) → Sat 31 Jan
    expect(ctx(s).current!.acceptanceDeadline!.date).toBe('2026-01-31');
    s = ok(s, ev('rtd.accept', ALL_DECLARATIONS, AT('2026-01-23'), appointee));
    expect(label(s)).toBe('ACCEPTED');
    expect(
      rtdTimers(s)
        .map((t) => t.key)
        .sort(),
    ).toEqual(['publication', 'reminder:publication:2', 'term-end']);
    s = ok(
      s,
      ev(
        'rtd.publication.record',
        { channel: 'ALBO', date: '2026-01-24', reference: 'Albo 112' },
        AT('2026-01-24'),
        STAFF,
      ),
    );
    expect(label(s)).toBe('ACCEPTED');
    // the same channel twice is refused by its rule (and the guard that is the rule)
    const again = ev(
      'rtd.publication.record',
      { channel: 'ALBO', date: '2026-01-24', reference: 'x' },
      AT('2026-01-24'),
      STAFF,
    );
    expect(RTD_RULES['rtd.publication.record'](s, again)).toMatchObject({
      rule: 'PUBLICATION_ALREADY_RECORDED',
    });
    expect(step(s, again)[0]).toBe(s);
    s = ok(
      s,
      ev(
        'rtd.publication.record',
        { channel: 'AMMINISTRAZIONE_TRASPARENTE', date: '2026-01-26', reference: 'AT' },
        AT('2026-01-26'),
        STAFF,
      ),
    );
    expect(label(s)).toBe('PUBLISHED');
    // every ente has its own IPA term (15 days from Mon 26 Jan → Tue 10 Feb) and its own branch
    expect(ctx(s).entes.map((e) => [e.codiceIpa, e.branch, e.ipaDeadline?.date])).toEqual(
      BR_ALL.map((e) => [e, 'IPA_PENDING', '2026-02-10']),
    );
    for (const [i, e] of BR_ALL.entries()) {
      expect(label(s)).toBe('PUBLISHED'); // ACTIVE only when ALL are done
      s = ok(
        s,
        ev(
          'rtd.ipa.confirm',
          { ente: e, registeredOn: '2026-02-02' },
          AT('2026-02-02'),
          segretario(e),
        ),
      );
      expect(ctx(s).entes[i]!.branch).toBe('IPA_REGISTERED');
    }
    expect(label(s)).toBe('ACTIVE');
    expect(s.matches({ IN_OFFICE: { ACTIVE: 'SERVING' } })).toBe(true);
    expect(ctx(s).lastIpaCheck).toBe('2026-02-02');
    // the 6-month IPA re-check and the end of the term are the only timers left
    expect(rtdTimers(s).map((t) => [t.key, t.dueAt])).toEqual([
      ['ipa-recheck', atRomeTime('2026-08-03', 9).toISOString()], // 2 Aug 2026 is a Sunday
      ['term-end', atRomeTime('2028-02-01', 0).toISOString()],
    ]);
    expect(rtdDefinitionV1.pendingEntes(s)).toEqual([]);
  });

  it.each(REQUIREMENTS.map((r) => [r]))(
    'a decree without %s is refused, naming the requirement',
    (req) => {
      const over: Record<string, unknown> = {
        pec: { pec: undefined },
        livello: { level: undefined },
        'competenze.tecnologiche': { competences: { giuridiche: true, manageriali: true } },
        'competenze.giuridiche': { competences: { tecnologiche: true, manageriali: true } },
        'competenze.manageriali': { competences: { tecnologiche: true, giuridiche: true } },
        'dichiarazioni.inconferibilita': { declarations: { incompatibilita: true } },
        'dichiarazioni.incompatibilita': { declarations: { inconferibilita: true } },
        fineIncarico: { incaricoEnd: undefined },
      }[req];
      let [s] = start();
      s = ok(s, ev('rtd.candidate.select', candidatePayload(over), AT('2026-01-10'), STAFF));
      const decree = ev('rtd.decree.issue', decreePayload(), AT('2026-01-20'));
      expect(RTD_RULES['rtd.decree.issue'](s, decree)).toMatchObject({
        rule: 'RTD_REQUIREMENT_MISSING',
        details: { requirement: req },
      });
      expect(step(s, decree)[0]).toBe(s); // the guard is the rule
    },
  );

  it('EQ is admitted only in an ente without dirigenti; the term never passes the incarico', () => {
    let [s] = start();
    s = ok(
      s,
      ev(
        'rtd.candidate.select',
        candidatePayload({ enteHasDirigenti: true }),
        AT('2026-01-10'),
        STAFF,
      ),
    );
    const decree = ev('rtd.decree.issue', decreePayload(), AT('2026-01-20'));
    expect(RTD_RULES['rtd.decree.issue'](s, decree)).toMatchObject({
      details: { requirement: 'livello' },
    });
    s = ok(
      s,
      ev(
        'rtd.candidate.select',
        candidatePayload({ incaricoEnd: '2027-06-30' }),
        AT('2026-01-11'),
        STAFF,
      ),
    );
    expect(RTD_RULES['rtd.decree.issue'](s, decree)).toMatchObject({
      rule: 'RTD_TERM_PAST_INCARICO',
    });
    const shorter = ev('rtd.decree.issue', decreePayload({ durationMonths: 17 }), AT('2026-01-20'));
    expect(RTD_RULES['rtd.decree.issue'](s, shorter)).toBeNull(); // 1 Feb 2026 + 17 months - 1 day = 30 Jun 2027
  });

  it('the decree names every ente served and a referente in each comune', () => {
    let [s] = start();
    s = ok(s, ev('rtd.candidate.select', candidatePayload(), AT('2026-01-10'), STAFF));
    const missingEnte = ev(
      'rtd.decree.issue',
      decreePayload({}, BR_ALL.slice(0, 8)),
      AT('2026-01-20'),
    );
    expect(RTD_RULES['rtd.decree.issue'](s, missingEnte)).toMatchObject({
      rule: 'ENTE_NOT_LISTED',
    });
    const stranger = ev(
      'rtd.decree.issue',
      decreePayload({}, [...BR_ALL, 'c_g843']),
      AT('2026-01-20'),
    );
    expect(RTD_RULES['rtd.decree.issue'](s, stranger)).toMatchObject({ rule: 'ENTE_NOT_SERVED' });
    const noReferente = ev(
      'rtd.decree.issue',
      { ...decreePayload(), referenti: decreePayload().referenti.slice(1) },
      AT('2026-01-20'),
    );
    expect(RTD_RULES['rtd.decree.issue'](s, noReferente)).toMatchObject({
      rule: 'RTD_REQUIREMENT_MISSING',
      details: { requirement: 'referente.c_a988' },
    });
    const future = ev(
      'rtd.decree.issue',
      decreePayload({ act: { type: 'DECRETO', number: '3', date: '2026-01-21' } }),
      AT('2026-01-20'),
    );
    expect(RTD_RULES['rtd.decree.issue'](s, future)).toMatchObject({ rule: 'ACT_DATE_IN_FUTURE' });
  });

  it('replaces the RTD with no gap: the successor’s decree with start D ends the predecessor on D-1', () => {
    let s = active();
    s = ok(
      s,
      ev(
        'rtd.candidate.select',
        candidatePayload({
          name: 'Laura Bianchi',
          codiceFiscale: CF_SECOND,
          pec: 'l.bianchi@pec.invalid',
        }),
        AT('2026-05-02'),
        STAFF,
      ),
    );
    expect(label(s)).toBe('ACTIVE'); // the incumbent keeps serving while the successor is chosen
    const gap = ev(
      'rtd.decree.issue',
      decreePayload({
        act: { type: 'DECRETO', number: '9', date: '2026-05-04' },
        startDate: '2028-02-02',
        durationMonths: 6,
      }),
      AT('2026-05-04'),
    );
    expect(RTD_RULES['rtd.decree.issue'](s, gap)).toMatchObject({ rule: 'REPLACEMENT_LEAVES_GAP' });
    s = ok(
      s,
      ev(
        'rtd.decree.issue',
        decreePayload({
          act: { type: 'DECRETO', number: '9', date: '2026-05-04' },
          startDate: '2026-06-01',
        }),
        AT('2026-05-04'),
      ),
    );
    expect(label(s)).toBe('APPOINTED');
    const [old] = ctx(s).past;
    expect(old).toMatchObject({ seq: 1, endedOn: '2026-05-31', endReason: 'SOSTITUZIONE' });
    expect(ctx(s).current).toMatchObject({ seq: 2, startDate: '2026-06-01' });
    expect(addCalendarDays(old!.endedOn!, 1)).toBe(ctx(s).current!.startDate);
    // no vacancy was opened; the view says who holds the office on each day
    expect(ctx(s).vacancy).toBeNull();
    expect(rtdDefinitionV1.view(s, new Date('2026-05-31T12:00:00Z'))['rtdInOffice']).toMatchObject({
      seq: 1,
    });
    expect(rtdDefinitionV1.view(s, new Date('2026-06-01T12:00:00Z'))['rtdInOffice']).toMatchObject({
      seq: 2,
      codiceFiscale: CF_SECOND,
    });
    // IPA must now name the successor, for every ente
    expect(ctx(s).entes.every((e) => e.branch === 'IPA_PENDING')).toBe(true);
  });

  it('the successor declines before its start: the incumbent keeps the office, no vacancy, no false alert', () => {
    let s = active();
    const incumbent = ctx(s).current!;
    s = ok(
      s,
      ev(
        'rtd.candidate.select',
        candidatePayload({ name: 'Laura Bianchi', codiceFiscale: CF_SECOND }),
        AT('2026-05-02'),
        STAFF,
      ),
    );
    s = ok(
      s,
      ev(
        'rtd.decree.issue',
        decreePayload({
          act: { type: 'DECRETO', number: '9', date: '2026-05-04' },
          startDate: '2026-06-01',
        }),
        AT('2026-05-04'),
      ),
    );
    expect(ctx(s).past.at(-1)).toMatchObject({ seq: 1, endReason: 'SOSTITUZIONE' });
    const successor = actor('appointee', BASSA_REGGIANA, CF_SECOND);
    let effects: ReturnType<typeof toEffects> = [];
    [s, effects] = step(
      s,
      ev('rtd.decline', { reason: 'Non disponibile' }, AT('2026-05-10'), successor),
    );
    // the successor's decree never took effect: the incumbent's appointment goes on as it was
    expect(label(s)).toBe('ACTIVE');
    expect(ctx(s).vacancy).toBeNull();
    expect(effects.map((e) => e.template)).not.toContain('rtd.vacancy');
    expect(ctx(s).current).toMatchObject({
      seq: 1,
      startDate: incumbent.startDate,
      endDate: incumbent.endDate,
      endedOn: null,
      endReason: null,
    });
    expect(ctx(s).past).toEqual([
      expect.objectContaining({ seq: 2, endReason: 'RINUNCIA', endedOn: '2026-05-31' }),
    ]);
    // IPA still names the incumbent for every ente: nothing to redo
    expect(ctx(s).entes.every((e) => e.branch === 'IPA_REGISTERED')).toBe(true);
    for (const day of ['2026-05-31', '2026-06-01', '2026-12-01'])
      expect(rtdDefinitionV1.view(s, new Date(`${day}T12:00:00Z`))['rtdInOffice']).toMatchObject({
        seq: 1,
        codiceFiscale: incumbent.candidate.codiceFiscale,
      });
    expect(rtdTimers(s).map((t) => t.key)).toEqual(
      expect.arrayContaining(['ipa-recheck', 'term-end']),
    );
    expect(rtdTimers(s).find((t) => t.key === 'term-end')!.event.payload).toEqual({
      date: addCalendarDays(incumbent.endDate, 1),
    });
  });

  it('the IPA term runs from the publication (the later of albo and AT), not from the day it is recorded', () => {
    let [s] = start();
    s = ok(s, ev('rtd.candidate.select', candidatePayload(), AT('2026-01-10'), STAFF));
    s = ok(s, ev('rtd.decree.issue', decreePayload(), AT('2026-01-20')));
    s = ok(s, ev('rtd.accept', ALL_DECLARATIONS, AT('2026-01-23'), appointee));
    // both published on time, recorded in Iter ten days later
    s = ok(
      s,
      ev(
        'rtd.publication.record',
        { channel: 'ALBO', date: '2026-01-24', reference: 'Albo 112' },
        AT('2026-02-05'),
        STAFF,
      ),
    );
    s = ok(
      s,
      ev(
        'rtd.publication.record',
        { channel: 'AMMINISTRAZIONE_TRASPARENTE', date: '2026-01-26', reference: 'AT' },
        AT('2026-02-05'),
        STAFF,
      ),
    );
    expect(label(s)).toBe('PUBLISHED');
    // 15 days from Mon 26 Jan 2026 → Tue 10 Feb (not from Thu 5 Feb → Fri 20 Feb)
    expect(new Set(ctx(s).entes.map((e) => e.ipaDeadline?.date))).toEqual(new Set(['2026-02-10']));
  });

  it('re-checks IPA every 6 months while ACTIVE; back to SERVING when all 9 confirm', () => {
    let s = active();
    const recheck = rtdTimers(s).find((t) => t.key === 'ipa-recheck')!;
    let effects: ReturnType<typeof toEffects> = [];
    [s, effects] = step(
      s,
      ev(recheck.event.type, recheck.event.payload, recheck.dueAt, actor('system', null)),
    );
    expect(s.matches({ IN_OFFICE: { ACTIVE: 'RECHECKING' } })).toBe(true);
    expect(effects.map((e) => e.template)).toEqual(['rtd.ipa-recheck']);
    expect(ctx(s).entes.every((e) => e.branch === 'RECHECK_DUE')).toBe(true);
    expect(
      rtdTimers(s)
        .filter((t) => t.kind === 'deadline')
        .map((t) => t.key),
    ).toEqual([...BR_ALL.map((e) => `ipa:${e}`), 'term-end']);
    for (const e of BR_ALL)
      s = ok(
        s,
        ev(
          'rtd.ipa.confirm',
          { ente: e, registeredOn: '2026-08-05' },
          AT('2026-08-05'),
          segretario(e),
        ),
      );
    expect(s.matches({ IN_OFFICE: { ACTIVE: 'SERVING' } })).toBe(true);
    expect(ctx(s).lastIpaCheck).toBe('2026-08-05');
    expect(rtdTimers(s).find((t) => t.key === 'ipa-recheck')!.event.payload).toEqual({
      date: '2027-02-05',
    });
  });

  it('revocation opens a vacancy with an immediate alert; the next decree records the time it took', () => {
    let s = active();
    let effects: ReturnType<typeof toEffects> = [];
    [s, effects] = step(
      s,
      ev(
        'rtd.revoke',
        {
          number: '20',
          date: '2026-04-10',
          effectiveDate: '2026-04-15',
          reason: 'Gravi inadempienze',
        },
        AT('2026-04-10'),
      ),
    );
    expect(label(s)).toBe('VACANT');
    expect(effects.map((e) => e.template)).toEqual(['rtd.vacancy']);
    expect(ctx(s).past[0]).toMatchObject({
      endedOn: '2026-04-14',
      endReason: 'REVOCA',
      endAct: { number: '20' },
    });
    expect(ctx(s).vacancy).toMatchObject({ since: '2026-04-15', reason: 'REVOCA' });
    expect(rtdDefinitionV1.view(s, new Date('2026-04-25T10:00:00Z'))['vacancy']).toMatchObject({
      daysOpen: 10,
    });
    s = ok(
      s,
      ev(
        'rtd.candidate.select',
        candidatePayload({ codiceFiscale: CF_SECOND }),
        AT('2026-04-20'),
        STAFF,
      ),
    );
    // withdrawing the candidate keeps the same vacancy and does not alert again
    [s, effects] = step(
      s,
      ev('rtd.candidate.withdraw', { reason: 'Rinuncia informale' }, AT('2026-04-21'), STAFF),
    );
    expect(effects).toEqual([]);
    s = ok(
      s,
      ev(
        'rtd.candidate.select',
        candidatePayload({ codiceFiscale: CF_SECOND }),
        AT('2026-04-22'),
        STAFF,
      ),
    );
    s = ok(
      s,
      ev(
        'rtd.decree.issue',
        decreePayload({
          act: { type: 'DECRETO', number: '21', date: '2026-04-25' },
          startDate: '2026-05-01',
        }),
        AT('2026-04-25'),
      ),
    );
    expect(ctx(s).vacancies.at(-1)).toEqual({
      since: '2026-04-15',
      filledOn: '2026-05-01',
      days: 16,
      reason: 'REVOCA',
    });
  });

  it.each([
    [
      'rtd.resignation.record',
      { date: '2026-04-01', effectiveDate: '2026-05-01' },
      'DIMISSIONI',
      '2026-04-30',
    ],
    [
      'rtd.incarico.end',
      { date: '2026-05-01', reason: 'Cessazione EQ' },
      'FINE_INCARICO',
      '2026-04-30',
    ],
  ])('%s ends the appointment and opens a vacancy', (type, payload, reason, lastDay) => {
    const s = ok(active(), ev(type, payload, AT('2026-04-02'), STAFF));
    expect(label(s)).toBe('VACANT');
    expect(ctx(s).past[0]).toMatchObject({ endReason: reason, endedOn: lastDay });
  });

  it('the term end fires on the day after the last day in office', () => {
    const s0 = active();
    const t = rtdTimers(s0).find((x) => x.key === 'term-end')!;
    const s = ok(s0, ev(t.event.type, t.event.payload, t.dueAt, actor('system', null)));
    expect(ctx(s).past[0]).toMatchObject({ endReason: 'SCADENZA', endedOn: '2028-01-31' });
    expect(ctx(s).vacancy!.since).toBe('2028-02-01');
  });

  it('signals from the convention: recesso stops serving a comune and raises its own-RTD task; a late adhesion adds one; the end closes', () => {
    let s = active();
    let effects: ReturnType<typeof toEffects> = [];
    [s, effects] = step(
      s,
      ev(
        'rtd.ente.withdraw',
        { ente: 'c_h225', date: '2027-01-01', reason: 'Recesso' },
        '2026-12-31T23:00:00.000Z',
        actor('system', null),
      ),
    );
    const reggiolo = ctx(s).entes.find((e) => e.codiceIpa === 'c_h225')!;
    expect(reggiolo).toMatchObject({ branch: 'WITHDRAWN', servedUntil: '2026-12-31' });
    expect(ctx(s).tasks.at(-1)).toMatchObject({
      ente: 'c_h225',
      text: expect.stringContaining('proprio RTD'),
    });
    expect(effects[0]).toMatchObject({
      template: 'rtd.own-rtd-required',
      to: expect.arrayContaining([{ ente: 'c_h225', role: 'sindaco' }]),
    });
    expect(label(s)).toBe('ACTIVE');
    // a withdrawn comune can no longer confirm IPA
    expect(
      RTD_RULES['rtd.ipa.confirm'](
        s,
        ev('rtd.ipa.confirm', { ente: 'c_h225', registeredOn: '2027-01-02' }, AT('2027-01-02')),
      ),
    ).toMatchObject({ rule: 'ENTE_NOT_SERVED' });

    const facts = {
      codiceIpa: 'c_x001',
      denominazione: 'Nuovo Comune',
      kind: 'COMUNE' as const,
      popolazione: 1000,
    };
    s = ok(
      s,
      ev(
        'rtd.ente.add',
        { ente: 'c_x001', date: '2027-02-01', enteFacts: facts },
        AT('2027-02-01'),
        actor('system', null),
      ),
    );
    expect(ctx(s).entes.at(-1)).toMatchObject({
      codiceIpa: 'c_x001',
      branch: 'IPA_PENDING',
      ipaDeadline: { date: '2027-02-16' },
    });
    expect(rtdTimers(s).map((t) => t.key)).toContain('ipa:c_x001');
    expect(rtdDefinitionV1.pendingEntes(s)).toEqual(['c_x001']);

    [s, effects] = step(
      s,
      ev(
        'rtd.convention.end',
        { date: '2028-01-01', reason: 'Scioglimento' },
        AT('2028-01-01'),
        actor('system', null),
      ),
    );
    expect(label(s)).toBe('ENDED');
    expect(s.status).toBe('done');
    expect(ctx(s).past.at(-1)).toMatchObject({
      endReason: 'FINE_CONVENZIONE',
      endedOn: '2027-12-31',
    });
    expect(effects.map((e) => e.template)).toEqual(['rtd.ended']);
    expect(rtdTimers(s)).toEqual([]);
  });

  it('a late deadline is flagged once; a stale deadline event does nothing', () => {
    let [s] = start();
    const t = rtdTimers(s).find((x) => x.key === 'decree')!;
    let effects: ReturnType<typeof toEffects> = [];
    [s, effects] = step(s, ev(t.event.type, t.event.payload, t.dueAt, actor('system', null)));
    expect(ctx(s).vacancy!.decreeDeadline.overdue).toBe(true);
    expect(effects.map((e) => e.template)).toEqual(['rtd.deadline-expired']);
    expect(rtdTimers(s)).toEqual([]);
    expect(step(s, ev(t.event.type, t.event.payload, t.dueAt, actor('system', null)))[0]).toBe(s);
  });

  it('reminders and expired terms carry the due date and the ente, so the notice can say what is due by when', () => {
    let [s] = start();
    const sys = actor('system', null);
    const reminder = rtdTimers(s).find((x) => x.key === 'reminder:decree:2')!;
    let effects: ReturnType<typeof toEffects> = [];
    [s, effects] = step(s, ev(reminder.event.type, reminder.event.payload, reminder.dueAt, sys));
    expect(effects[0]).toMatchObject({
      template: 'rtd.reminder',
      data: { key: 'decree', deadline: ctx(s).vacancy!.decreeDeadline.date, daysBefore: 2 },
    });
    // an IPA term of one comune: its name travels with the notice
    let a = active();
    a = ok(
      a,
      ev(
        'rtd.ente.withdraw',
        { ente: 'c_a988', date: '2026-03-01', reason: 'x' },
        AT('2026-03-01'),
        sys,
      ),
    );
    a = ok(
      a,
      ev(
        'rtd.ente.add',
        { ente: 'c_a988', date: '2026-04-01', enteFacts: rtdInput().members[0]! },
        AT('2026-04-01'),
        sys,
      ),
    );
    const ipa = rtdTimers(a).find((x) => x.key === 'ipa:c_a988')!;
    [a, effects] = step(a, ev(ipa.event.type, ipa.event.payload, ipa.dueAt, sys));
    expect(effects[0]).toMatchObject({
      template: 'rtd.deadline-expired',
      to: expect.arrayContaining([{ ente: 'c_a988', role: 'segretario' }]),
      data: { key: 'ipa:c_a988', enteName: 'Boretto', deadline: ipa.dueAt.slice(0, 10) },
    });
  });

  it('the appointee declines: the vacancy opens again', () => {
    let [s] = start();
    s = ok(s, ev('rtd.candidate.select', candidatePayload(), AT('2026-01-10'), STAFF));
    s = ok(s, ev('rtd.decree.issue', decreePayload(), AT('2026-01-20')));
    const refused = ev(
      'rtd.accept',
      { declarations: { inconferibilita: true, incompatibilita: false } },
      AT('2026-01-22'),
      appointee,
    );
    expect(RTD_RULES['rtd.accept'](s, refused)).toMatchObject({
      rule: 'DECLARATIONS_REQUIRED',
      details: { requirement: 'dichiarazioni.incompatibilita' },
    });
    s = ok(s, ev('rtd.decline', { reason: 'Motivi personali' }, AT('2026-01-22'), appointee));
    expect(label(s)).toBe('VACANT');
    expect(ctx(s).past[0]).toMatchObject({ endReason: 'RINUNCIA' });
  });

  it('each ente’s branch is its own machine', () => {
    expect(stepBranch('IPA_PENDING', 'ipa.confirm')).toBe('IPA_REGISTERED');
    expect(stepBranch('IPA_REGISTERED', 'ipa.recheck')).toBe('RECHECK_DUE');
    expect(stepBranch('RECHECK_DUE', 'ipa.confirm')).toBe('IPA_REGISTERED');
    expect(stepBranch('IPA_REGISTERED', 'appointee.change')).toBe('IPA_PENDING');
    expect(stepBranch('IPA_PENDING', 'ipa.recheck')).toBe('IPA_PENDING');
    expect(stepBranch('WITHDRAWN', 'ipa.confirm')).toBe('WITHDRAWN');
    expect(Object.keys(rtdEnteMachine.states).sort()).toEqual([
      'IPA_PENDING',
      'IPA_REGISTERED',
      'RECHECK_DUE',
      'WITHDRAWN',
    ]);
  });
});

// ------------------------------------------------------------------ path coverage

describe('path coverage (@xstate/graph)', () => {
  const paths = rtdGraphPaths();

  it('reaches every state of the machine and every branch state of an ente', () => {
    const values = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    const leaves = new Set<string>();
    const walk = (v: unknown, prefix: string) => {
      if (typeof v === 'string') leaves.add(prefix + v);
      else for (const [k, w] of Object.entries(v as object)) walk(w, `${prefix}${k}.`);
    };
    for (const v of values) walk(JSON.parse(v), '');
    expect([...leaves].sort()).toEqual(
      [
        'VACANT',
        'CANDIDATE_SELECTED',
        'IN_OFFICE.APPOINTED.NOTIFICATION_PENDING',
        'IN_OFFICE.APPOINTED.AWAITING_ACCEPTANCE',
        'IN_OFFICE.ACCEPTED.ALBO.PENDING',
        'IN_OFFICE.ACCEPTED.ALBO.DONE',
        'IN_OFFICE.ACCEPTED.TRASPARENZA.PENDING',
        'IN_OFFICE.ACCEPTED.TRASPARENZA.DONE',
        'IN_OFFICE.PUBLISHED',
        'IN_OFFICE.ACTIVE.SERVING',
        'IN_OFFICE.ACTIVE.RECHECKING',
        'ENDED',
      ].sort(),
    );
    const branches = new Set(paths.flatMap((p) => ctx(p.state).entes.map((e) => e.branch)));
    expect([...branches].sort()).toEqual([
      'IPA_PENDING',
      'IPA_REGISTERED',
      'RECHECK_DUE',
      'WITHDRAWN',
    ]);
  });

  it('takes every event of the definition on some path', () => {
    const taken = new Set(
      paths.flatMap((p) => p.steps.map((st) => (st.event as { type: string }).type)),
    );
    for (const type of Object.keys(rtdDefinitionV1.events))
      expect([type, taken.has(type)]).toEqual([type, true]);
    // (rtdGraphEvents offers only events the snapshot really takes, so every edge is a real transition)
    expect(paths.length).toBeGreaterThan(20);
  });
});
