/**
 * The two path-coverage models of the convention (@xstate/graph): the approval explored from the initial
 * state, and the later life explored from a convention in force. Shared by the machine's path-coverage tests
 * (libs/workflows/src/convention/convention.machine.spec.ts) and by the allowed-events test of the engine
 * (libs/engine/src/allowed-events.spec.ts). Pure data: no Nest, no database, no clock.
 */
import 'reflect-metadata';
import type { SnapshotFrom } from 'xstate';
import { addCalendarDays, atRomeTime, executivityDate, toRomeDate } from '@app/calendar';
import {
  type conventionMachine,
  conventionStateLabel,
  type ConventionContext,
  type ConventionEvent,
  type EnteProgress,
} from '@app/workflows';
import {
  BIENTINA,
  CHIANNI,
  CHIANNI_FACTS,
  PONTEDERA,
  VALDERA,
  abandonEvent,
  adhesionAcceptEvent,
  adhesionOpenEvent,
  amendedEvent,
  amendmentAcceptEvent,
  amendmentOpenEvent,
  amendmentRefuseEvent,
  approvedEvent,
  certifyEvent,
  conveneEvent,
  decorrenzaEvent,
  deliberationEvent,
  dissolutionEvent,
  expireEvent,
  expiryEvent,
  extendEvent,
  freezeEvent,
  recessoEffectiveEvent,
  recessoEvent,
  reminderEvent,
  renewalEvent,
  sendEvent,
  signEvent,
  smallConventionInput,
  votes,
} from './convention.factory';

export type Snap = SnapshotFrom<typeof conventionMachine>;
const label = (s: Snap): string => conventionStateLabel(s);
const ente = (s: Snap, codiceIpa: string): EnteProgress => {
  const e = s.context.entes.find((x) => x.codiceIpa === codiceIpa);
  if (!e) throw new Error(`no ente ${codiceIpa}`);
  return e;
};
const FREEZE_AT = '2026-01-28T11:00:00.000Z';
const SEND = sendEvent('2026-02-05T10:00:00+01:00', '2026-02-05T09:30:00.000Z');
const DEADLINE = '2026-04-07';
const DUE_AT = '2026-04-07T21:59:59.999Z';

/**
 * First model, explored from the initial state: the approval. Unione Valdera + Bientina + Pontedera under
 * QUORUM(1 comune) with the STALL rule for late councils, so that both STALLED and APPROVED_PARTIAL can be
 * reached, and decorrenza on the first day of the next month, so that SIGNED is a state of its own.
 *
 * Bounds (the reachable contexts multiply per ente: outcome × executivity × term variant × text round, and
 * every context is a distinct snapshot):
 * - one way forward per council: the Unione approves plainly (then is certified) or rejects (→ FAILED),
 *   and it alone lets its term pass (→ STALLED); Bientina approves with IE or, only as the very first act
 *   on text v1, with amendments (→ AMENDMENT_PENDING, then accepted → v2 and a new sending, or refused);
 *   Pontedera is reminded once, then convened, then approves or rejects;
 * - one extension per text round (offered while STALLED and no open term was extended yet);
 * - payloads are fixed per kind of event and text round (numbers from the council's own history, dates
 *   from the round's sending), so the order of independent events does not multiply the contexts;
 * - IN_FORCE is a leaf: the later life is the second model's, explored from one IN_FORCE snapshot.
 * This gives about 2,000 snapshots (one shortest path each) for this model and about 90 for the
 * second; `limit` is only a safety net.
 */
export const G_INPUT = smallConventionInput({
  approval: 'QUORUM',
  quorumMinEntes: 1,
  nonDeliberating: 'STALL',
  decorrenza: 'FIRST_DAY_OF_NEXT_MONTH',
});
export const G_SIGN_AT = '2026-04-20T08:00:00.000Z';
export const G_DECORRENZA = '2026-05-01';
export const G_AMENDMENT_AT = '2026-03-10T09:00:00.000Z';

/** the dates of a text round: convocation 10 days and session 20 days after the PEC delivery */
export function roundDates(c: ConventionContext): { notice: string; session: string; at: string } {
  const sent = toRomeDate(new Date(c.sentAt ?? FREEZE_AT));
  const session = addCalendarDays(sent, 20);
  return {
    notice: addCalendarDays(sent, 10),
    session,
    at: `${addCalendarDays(session, 1)}T09:00:00.000Z`,
  };
}
/** a number the council has not used yet */
export const nextNumber = (e: EnteProgress): string => String(e.sessions.length + 1);
export const currentHash = (c: ConventionContext): string => c.text?.sha256 ?? '';
export const isOpenRow = (e: EnteProgress): boolean =>
  e.status === 'INVITED' || e.status === 'COUNCIL_CONVENED';

export const G = {
  freeze: freezeEvent(FREEZE_AT),
  send: SEND,
  sendV2: sendEvent('2026-03-12T10:00:00+01:00', '2026-03-12T09:30:00.000Z'),
  approve: (c: ConventionContext, e: EnteProgress) => {
    const r = roundDates(c);
    return approvedEvent(e.codiceIpa, nextNumber(e), r.session, r.at, { textHash: currentHash(c) });
  },
  approveIe: (c: ConventionContext, e: EnteProgress) => {
    const r = roundDates(c);
    return approvedEvent(e.codiceIpa, nextNumber(e), r.session, r.at, {
      textHash: currentHash(c),
      immediatamenteEseguibile: true,
      ieVotes: votes(12, 17),
    });
  },
  amend: (c: ConventionContext, e: EnteProgress) => {
    const r = roundDates(c);
    return amendedEvent(e.codiceIpa, nextNumber(e), r.session, r.at);
  },
  reject: (c: ConventionContext, e: EnteProgress) => {
    const r = roundDates(c);
    return deliberationEvent(
      { ente: e.codiceIpa, number: nextNumber(e), date: r.session, outcome: 'REJECTED' },
      r.at,
    );
  },
  convene: (c: ConventionContext, e: EnteProgress) => {
    const r = roundDates(c);
    return conveneEvent(e.codiceIpa, r.session, r.notice, `${r.notice}T09:00:00.000Z`);
  },
  remind: (e: EnteProgress) =>
    reminderEvent(
      e.codiceIpa,
      15,
      atRomeTime(addCalendarDays(e.deadline?.date ?? DEADLINE, -15), 9).toISOString(),
    ),
  /** the deadline timer exactly as armed: the current dueAt, fired at dueAt */
  expire: (e: EnteProgress) =>
    expireEvent(e.codiceIpa, e.deadline?.dueAt ?? DUE_AT, e.deadline?.dueAt ?? DUE_AT),
  extend: (late: EnteProgress) =>
    extendEvent(30, `${addCalendarDays(late.deadline?.date ?? DEADLINE, 2)}T08:00:00.000Z`),
  certify: (e: EnteProgress) => {
    const p = addCalendarDays(e.deliberation?.date ?? DEADLINE, 1);
    const executiveOn = executivityDate(p, 'P_PLUS_11');
    return certifyEvent(e.codiceIpa, p, executiveOn, `${executiveOn}T09:00:00.000Z`);
  },
  sign: (e: EnteProgress) => signEvent(e.codiceIpa, G_SIGN_AT, G_SIGN_AT),
  decorrenza: decorrenzaEvent(G_DECORRENZA, atRomeTime(G_DECORRENZA, 0).toISOString()),
  accept: amendmentAcceptEvent(G_AMENDMENT_AT),
  refuse: amendmentRefuseEvent(G_AMENDMENT_AT),
  abandon: abandonEvent('Archiviata', '2026-04-10T08:00:00.000Z'),
};

/** a council that has done nothing yet in this round */
export const untouched = (e: EnteProgress): boolean =>
  e.status === 'INVITED' &&
  e.remindersSent === 0 &&
  e.deadline?.overdue === false &&
  e.deadline.extensions === 0;

export function graphEvents(s: Snap): ConventionEvent[] {
  const c = s.context;
  const [valdera, bientina, pontedera] = [ente(s, VALDERA), ente(s, BIENTINA), ente(s, PONTEDERA)];
  switch (label(s)) {
    case 'DRAFT':
      return [G.freeze, G.abandon];
    case 'FROZEN':
      return [c.textVersions.length === 1 ? G.send : G.sendV2, G.abandon];
    case 'IN_DELIBERATION':
    case 'STALLED': {
      const out: ConventionEvent[] = [];
      if (valdera.status === 'INVITED') {
        out.push(G.approve(c, valdera), G.reject(c, valdera));
        if (valdera.deadline?.overdue === false) out.push(G.expire(valdera));
      }
      if (bientina.status === 'INVITED') {
        out.push(G.approveIe(c, bientina));
        const first =
          c.textVersions.length === 1 &&
          bientina.sessions.length === 0 &&
          untouched(valdera) &&
          untouched(pontedera);
        if (first) out.push(G.amend(c, bientina));
      }
      if (pontedera.status === 'INVITED')
        out.push(pontedera.remindersSent === 0 ? G.remind(pontedera) : G.convene(c, pontedera));
      if (pontedera.status === 'COUNCIL_CONVENED')
        out.push(G.approve(c, pontedera), G.reject(c, pontedera));
      for (const e of c.entes) if (e.status === 'APPROVED') out.push(G.certify(e));
      if (
        label(s) === 'STALLED' &&
        c.entes.filter(isOpenRow).every((e) => e.deadline?.extensions === 0)
      )
        out.push(G.extend(valdera));
      out.push(G.abandon);
      return out;
    }
    case 'AMENDMENT_PENDING':
      return [G.accept, G.refuse, G.abandon];
    case 'APPROVED_ALL':
    case 'APPROVED_PARTIAL':
      return [...c.entes.filter((e) => e.status === 'APPROVED').map(G.certify), G.abandon];
    case 'READY_TO_SIGN':
      return [...c.entes.filter((e) => e.status === 'EXECUTIVE').map(G.sign), G.abandon];
    case 'SIGNED':
      return [G.decorrenza];
    default:
      return [];
  }
}

/**
 * Second model, explored from the first model's shortest path to a convention in force with all three
 * entes signed (text v1, in force from 2026-05-01 to 2031-04-30): the later life.
 * Bounds: one later-life change at a time (a change under way offers only its next step, in ente order),
 * each at most once: Chianni's adhesion (IE approval, Giunta acceptance, addendum), the amendment v1 → v2
 * (the same loop: sending, IE approvals, signatures), Pontedera's recesso, one express renewal; at most
 * two of them in sequence (so every ordered pair), and then only the ends: unanimous dissolution and expiry.
 * Each change happens in the year 2027 + the number of changes already done, so time never runs back.
 */
export const LIFE_EXPIRES_ON = '2031-04-30';
export const activeRows = (c: ConventionContext): EnteProgress[] =>
  c.entes.filter((e) => !e.joining && !['REJECTED', 'NON_ADERENTE', 'RECEDUTO'].includes(e.status));

export function lifeChangesDone(s: Snap): number {
  const c = s.context;
  const chianni = c.entes.find((e) => e.codiceIpa === CHIANNI);
  return [
    chianni !== undefined && !chianni.joining, // it signed the addendum (an amendment may have reset it since)
    c.textVersions.length > 1 && label(s) === 'IN_FORCE',
    ente(s, PONTEDERA).status === 'RECEDUTO',
    c.expiresOn !== LIFE_EXPIRES_ON,
  ].filter(Boolean).length;
}

export function lifeEvents(s: Snap): ConventionEvent[] {
  const c = s.context;
  const y = 2027 + lifeChangesDone(s);
  const active = activeRows(c);
  const ieApproval = (e: EnteProgress, date: string, at: string) =>
    approvedEvent(e.codiceIpa, nextNumber(e), date, at, {
      textHash: currentHash(c),
      immediatamenteEseguibile: true,
      ieVotes: votes(7, 11),
    });
  switch (label(s)) {
    // the amendment loop of a convention in force
    case 'FROZEN':
      return [sendEvent(`${y}-09-03T10:00:00+02:00`, `${y}-09-03T08:30:00.000Z`)];
    case 'IN_DELIBERATION': {
      const next = active.find((e) => e.status === 'INVITED');
      return next ? [ieApproval(next, `${y}-09-20`, `${y}-09-21T09:00:00.000Z`)] : [];
    }
    case 'READY_TO_SIGN': {
      const next = active.find((e) => e.status === 'EXECUTIVE');
      return next
        ? [signEvent(next.codiceIpa, `${y}-10-01T08:00:00.000Z`, `${y}-10-01T08:00:00.000Z`)]
        : [];
    }
    case 'IN_FORCE':
      break;
    default:
      return [];
  }
  const chianni = c.entes.find((e) => e.codiceIpa === CHIANNI);
  if (chianni?.joining) {
    switch (chianni.status) {
      case 'INVITED':
        return [ieApproval(chianni, `${y}-03-20`, `${y}-03-21T09:00:00.000Z`)];
      case 'EXECUTIVE':
        return [adhesionAcceptEvent(CHIANNI, '30', `${y}-03-25`, `${y}-03-25T10:00:00.000Z`)];
      case 'ADMITTED':
        return [signEvent(CHIANNI, `${y}-04-01T08:00:00.000Z`, `${y}-04-01T08:00:00.000Z`)];
      default:
        return [];
    }
  }
  const pontedera = ente(s, PONTEDERA);
  if (pontedera.recesso && pontedera.status !== 'RECEDUTO') {
    const d = pontedera.recesso.effectiveDate;
    return [recessoEffectiveEvent(PONTEDERA, d, atRomeTime(d, 0).toISOString())];
  }
  const renewal = (e: EnteProgress) =>
    renewalEvent(e.codiceIpa, '50', `${y}-06-30`, `${y}-07-01T09:00:00.000Z`);
  const dissolution = (e: EnteProgress) =>
    dissolutionEvent(e.codiceIpa, '60', `${y}-07-30`, `${y}-07-31T09:00:00.000Z`);
  const lacking = (act: 'RINNOVO' | 'SCIOGLIMENTO') =>
    active.filter((e) => !e.acts.some((a) => a.act === act));
  if (active.some((e) => e.acts.some((a) => a.act === 'RINNOVO')))
    return lacking('RINNOVO').slice(0, 1).map(renewal);
  if (active.some((e) => e.acts.some((a) => a.act === 'SCIOGLIMENTO')))
    return lacking('SCIOGLIMENTO').slice(0, 1).map(dissolution);
  const out: ConventionEvent[] = [];
  if (lifeChangesDone(s) < 2) {
    if (!chianni) out.push(adhesionOpenEvent(CHIANNI_FACTS, `${y}-03-01T09:00:00.000Z`));
    if (c.textVersions.length === 1) out.push(amendmentOpenEvent(`${y}-09-01T09:00:00.000Z`));
    if (!pontedera.recesso)
      out.push(
        recessoEvent(PONTEDERA, '40', `${y}-05-02`, `${y + 1}-01-01`, `${y}-05-02T09:00:00.000Z`),
      );
    if (c.expiresOn === LIFE_EXPIRES_ON) out.push(...active.slice(0, 1).map(renewal));
  }
  const dayAfter = addCalendarDays(c.expiresOn ?? LIFE_EXPIRES_ON, 1);
  out.push(
    ...active.slice(0, 1).map(dissolution),
    expiryEvent(dayAfter, atRomeTime(dayAfter, 0).toISOString()),
  );
  return out;
}
