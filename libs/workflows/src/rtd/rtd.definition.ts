import type { AnyMachineSnapshot } from 'xstate';
import { addCalendarDays, addMonthsTerm, atRomeTime, toRomeDate } from '@app/calendar';
import type {
  ActRef,
  EnteFacts,
  LinkedProcess,
  MachineEvent,
  ProcessDefinition,
  ProcessStatus,
  TimerSpec,
} from '../definition';
import { conventionStateLabel } from '../convention/convention.definition';
import { isActive } from '../convention/convention.rules';
import type { ConventionContext } from '../convention/convention.types';
import { rtdEnteMachine } from './rtd.ente.machine';
import {
  AcceptDto,
  ConfirmIpaDto,
  ConventionEndDto,
  EnteAddDto,
  EnteWithdrawDto,
  IncaricoEndDto,
  IssueDecreeDto,
  ReasonDto,
  RecordNotificationDto,
  RecordPublicationDto,
  ResignationDto,
  RevokeDto,
  RtdDateDto,
  RtdDeadlineDto,
  RtdReminderDto,
  SelectCandidateDto,
  StartRtdDto,
} from './rtd.events';
import { rtdMachine } from './rtd.machine';
import {
  daysBetween,
  missingRequirement,
  RTD_PRECONDITIONS,
  RTD_RULES,
  servedNow,
  today,
} from './rtd.rules';
import { DEFAULT_RTD_POLICY, type Deadline, type RtdContext } from './rtd.types';

const ctxOf = (s: AnyMachineSnapshot): RtdContext => s.context as RtdContext;
const convOf = (l: LinkedProcess): ConventionContext => l.snapshot.context as ConventionContext;

/** Top-level state, or the phase inside IN_OFFICE (APPOINTED, ACCEPTED, PUBLISHED, ACTIVE). */
export function rtdStateLabel(s: AnyMachineSnapshot): string {
  const v = s.value as string | Record<string, unknown>;
  if (typeof v === 'string') return v;
  const inner = v['IN_OFFICE'];
  if (typeof inner === 'string') return inner;
  if (inner && typeof inner === 'object') return Object.keys(inner)[0]!;
  return Object.keys(v)[0]!;
}

function deadlineTimers(
  key: string,
  d: Deadline | null,
  reminders: readonly number[],
  type = 'rtd.deadline.expire',
): TimerSpec[] {
  if (!d || d.overdue) return [];
  const out: TimerSpec[] = [
    { key, kind: 'deadline', dueAt: d.dueAt, event: { type, payload: { key, dueAt: d.dueAt } } },
  ];
  for (const n of reminders) {
    const dueAt = atRomeTime(addCalendarDays(d.date, -n), 9).toISOString();
    if (dueAt <= d.setAt) continue; // a reminder whose moment passed before the term was set: skip it
    out.push({
      key: `reminder:${key}:${n}`,
      kind: 'reminder',
      dueAt,
      event: { type: 'rtd.reminder', payload: { key, daysBefore: n } },
    });
  }
  return out;
}

/** the date of the next IPA re-check (policy ipaRecheckMonths after the last complete check) */
const nextIpaCheck = (ctx: RtdContext): string | null =>
  ctx.lastIpaCheck ? addMonthsTerm(ctx.lastIpaCheck, ctx.policy.ipaRecheckMonths) : null;

export function rtdTimers(s: AnyMachineSnapshot): TimerSpec[] {
  const ctx = ctxOf(s);
  const label = rtdStateLabel(s);
  const r = ctx.policy.reminderDaysBefore;
  const out: TimerSpec[] = [];
  if (label === 'VACANT' || label === 'CANDIDATE_SELECTED') {
    out.push(...deadlineTimers('decree', ctx.vacancy?.decreeDeadline ?? null, r));
  }
  if (label === 'APPOINTED') {
    out.push(...deadlineTimers('acceptance', ctx.current?.acceptanceDeadline ?? null, r));
  }
  if (label === 'ACCEPTED') {
    out.push(...deadlineTimers('publication', ctx.current?.publicationDeadline ?? null, r));
  }
  if (label === 'PUBLISHED' || label === 'ACTIVE') {
    for (const e of ctx.entes) {
      if (e.branch === 'IPA_PENDING' || e.branch === 'RECHECK_DUE')
        out.push(...deadlineTimers(`ipa:${e.codiceIpa}`, e.ipaDeadline, r));
    }
  }
  if (s.matches({ IN_OFFICE: { ACTIVE: 'SERVING' } })) {
    const next = nextIpaCheck(ctx);
    if (next) {
      out.push({
        key: 'ipa-recheck',
        kind: 'deadline',
        dueAt: atRomeTime(next, 9).toISOString(),
        event: { type: 'rtd.ipa.recheck', payload: { date: next } },
      });
    }
  }
  if (s.matches('IN_OFFICE') && ctx.current) {
    const first = addCalendarDays(ctx.current.endDate, 1);
    out.push({
      key: 'term-end',
      kind: 'deadline',
      dueAt: atRomeTime(first, 0).toISOString(),
      event: { type: 'rtd.term.expire', payload: { date: first } },
    });
  }
  return out;
}

/** `in_force` while an RTD is fully active (its later life goes on), `terminated` once the convention ended */
function rtdStatus(s: AnyMachineSnapshot): ProcessStatus {
  const label = rtdStateLabel(s);
  if (label === 'ENDED') return 'terminated';
  return label === 'ACTIVE' ? 'in_force' : 'active';
}

function pendingEntes(s: AnyMachineSnapshot): string[] {
  const label = rtdStateLabel(s);
  if (label !== 'PUBLISHED' && label !== 'ACTIVE') return [];
  return ctxOf(s)
    .entes.filter((e) => e.branch === 'IPA_PENDING' || e.branch === 'RECHECK_DUE')
    .map((e) => e.codiceIpa);
}

function nextDeadline(s: AnyMachineSnapshot): string | null {
  const open = rtdTimers(s)
    .filter((t) => t.kind === 'deadline' && t.key !== 'ipa-recheck' && t.key !== 'term-end')
    .map((t) => t.dueAt)
    .sort();
  return open[0] ?? null;
}

const actOrgan = (type: string): ActRef['organ'] =>
  type === 'DECRETO' ? 'PU' : type === 'DELIBERA_GIUNTA' ? 'GU' : 'DT';

/** the facts of a convention row (EnteProgress extends EnteFacts) */
const factsOf = (e: EnteFacts): EnteFacts => ({
  codiceIpa: e.codiceIpa,
  denominazione: e.denominazione,
  kind: e.kind,
  popolazione: e.popolazione,
});

export const rtdDefinitionV1: ProcessDefinition<StartRtdDto> = {
  key: 'rtd',
  version: 1,
  title: 'Nomina del Responsabile per la transizione al digitale associato (art. 17 CAD)',
  description:
    'Candidato e requisiti, atto di nomina, notifica PEC e accettazione, pubblicazione, registrazione IPA di ogni ente, verifica semestrale, sostituzione senza interruzioni.',
  machine: rtdMachine,
  input: StartRtdDto,
  startRoles: ['presidente', 'staff'],
  prerequisite: {
    definition: 'convenzione',
    inputField: 'convention',
    relation: 'rtd',
    check: (linked, at) => {
      const c = convOf(linked);
      const label = conventionStateLabel(linked.snapshot);
      const final = ['FAILED', 'ABANDONED', 'EXPIRED', 'TERMINATED'].includes(label);
      if (final || c.inForceFrom === null || c.inForceFrom > toRomeDate(new Date(at))) {
        return {
          rule: 'CONVENTION_NOT_IN_FORCE',
          message: `La convenzione "${c.title}" non è in vigore (stato ${label}): l’RTD associato si nomina solo per una convenzione in vigore con decorrenza raggiunta`,
          field: 'input.convention',
          details: { conventionState: label },
        };
      }
      return null;
    },
  },
  businessKeyOf: (input) => `rtd:${input.convention}`,
  tenantOf: (s) => ctxOf(s).unione,
  inputEntes: (_input, linked) => {
    if (!linked) return { unione: '', members: [] };
    const c = convOf(linked);
    return {
      unione: c.unione,
      members: c.entes.filter((e) => e.kind === 'COMUNE' && isActive(e)).map((e) => e.codiceIpa),
    };
  },
  participants: (s) => ctxOf(s).entes.map((e) => e.codiceIpa),
  machineInput: (input, entes, linked) => {
    const c = linked ? convOf(linked) : null;
    const unione = c ? c.unione : '';
    const members = c
      ? c.entes.filter((e) => e.kind === 'COMUNE' && isActive(e)).map((e) => e.codiceIpa)
      : [];
    return {
      title: input.title ?? `RTD associato — ${c?.title ?? ''}`.trim(),
      unione: entes.get(unione),
      members: members.map((m) => entes.get(m)),
      policy: { ...DEFAULT_RTD_POLICY, ...(input.policy ?? {}) },
      convention: linked && c ? { instanceId: linked.instanceId, title: c.title } : null,
      outsiders: c
        ? c.entes.filter((e) => e.kind === 'COMUNE' && !e.joining && !isActive(e)).map(factsOf)
        : [],
      since: c?.inForceFrom ?? toRomeDate(new Date()),
    };
  },
  appointee: (s) => ctxOf(s).current?.candidate.codiceFiscale ?? null,
  titleOf: (s) => ctxOf(s).title,
  events: {
    'rtd.candidate.select': {
      description:
        'Individua il candidato RTD: dati, livello, competenze, dichiarazioni, fine incarico',
      roles: ['presidente', 'staff'],
      scope: 'unione',
      payload: SelectCandidateDto,
      rule: RTD_RULES['rtd.candidate.select'],
    },
    'rtd.candidate.withdraw': {
      description: 'Ritira il candidato selezionato (motivato)',
      roles: ['presidente', 'staff'],
      scope: 'unione',
      payload: ReasonDto,
    },
    'rtd.decree.issue': {
      description:
        'Adotta l’atto di nomina (decreto, delibera di Giunta o determina): enti serviti, referenti, durata',
      roles: ['presidente'],
      scope: 'unione',
      payload: IssueDecreeDto,
      rule: RTD_RULES['rtd.decree.issue'],
      precondition: RTD_PRECONDITIONS['rtd.decree.issue'],
      registersAct: (s, ev: MachineEvent) => {
        const act = (ev.payload as { act: { type: string; number: string; date: string } }).act;
        return {
          ente: ctxOf(s).unione,
          organ: actOrgan(act.type),
          number: act.number,
          date: act.date,
        };
      },
    },
    'rtd.notification.record': {
      description:
        'Registra la consegna PEC dell’atto all’interessato (ricevuta di avvenuta consegna)',
      roles: ['presidente', 'staff'],
      scope: 'unione',
      payload: RecordNotificationDto,
      rule: RTD_RULES['rtd.notification.record'],
    },
    'rtd.accept': {
      description: 'L’interessato accetta la nomina e rende le dichiarazioni (D.Lgs. 39/2013)',
      roles: ['appointee'],
      scope: 'appointee',
      payload: AcceptDto,
      rule: RTD_RULES['rtd.accept'],
    },
    'rtd.decline': {
      description: 'L’interessato rinuncia alla nomina',
      roles: ['appointee'],
      scope: 'appointee',
      payload: ReasonDto,
    },
    'rtd.publication.record': {
      description: 'Registra la pubblicazione all’albo pretorio o in Amministrazione Trasparente',
      roles: ['staff'],
      scope: 'unione',
      payload: RecordPublicationDto,
      rule: RTD_RULES['rtd.publication.record'],
    },
    'rtd.ipa.confirm': {
      description: 'Conferma la registrazione (o la verifica) dell’RTD su IPA per il proprio ente',
      roles: ['segretario'],
      scope: 'ente',
      payload: ConfirmIpaDto,
      rule: RTD_RULES['rtd.ipa.confirm'],
      precondition: RTD_PRECONDITIONS['rtd.ipa.confirm'],
    },
    'rtd.revoke': {
      description: 'Revoca l’RTD con decreto motivato',
      roles: ['presidente'],
      scope: 'unione',
      payload: RevokeDto,
      rule: RTD_RULES['rtd.revoke'],
      registersAct: (s, ev: MachineEvent) => {
        const p = ev.payload as { number: string; date: string };
        return { ente: ctxOf(s).unione, organ: 'PU', number: p.number, date: p.date };
      },
    },
    'rtd.resignation.record': {
      description: 'Registra le dimissioni dell’RTD e la data da cui hanno effetto',
      roles: ['presidente', 'staff'],
      scope: 'unione',
      payload: ResignationDto,
      rule: RTD_RULES['rtd.resignation.record'],
    },
    'rtd.incarico.end': {
      description: 'Registra la fine anticipata dell’incarico dirigenziale o EQ sottostante',
      roles: ['presidente', 'staff'],
      scope: 'unione',
      payload: IncaricoEndDto,
      rule: RTD_RULES['rtd.incarico.end'],
    },
    'rtd.term.expire': {
      description: 'Scadenza del termine della nomina',
      roles: [],
      scope: 'system',
      payload: RtdDateDto,
    },
    'rtd.ipa.recheck': {
      description: 'Verifica semestrale dei dati IPA',
      roles: [],
      scope: 'system',
      payload: RtdDateDto,
    },
    'rtd.deadline.expire': {
      description: 'Scadenza di un termine (decreto, accettazione, pubblicazione, IPA)',
      roles: [],
      scope: 'system',
      payload: RtdDeadlineDto,
    },
    'rtd.reminder': {
      description: 'Promemoria prima di un termine',
      roles: [],
      scope: 'system',
      payload: RtdReminderDto,
    },
    'rtd.ente.add': {
      description: 'Un comune aderisce alla convenzione in vigore (segnale della convenzione)',
      roles: [],
      scope: 'system',
      payload: EnteAddDto,
      resolveEnte: true,
    },
    'rtd.ente.withdraw': {
      description: 'Il recesso di un comune ha effetto (segnale della convenzione)',
      roles: [],
      scope: 'system',
      payload: EnteWithdrawDto,
    },
    'rtd.convention.end': {
      description: 'La convenzione è sciolta o scaduta (segnale della convenzione)',
      roles: [],
      scope: 'system',
      payload: ConventionEndDto,
    },
  },
  timers: rtdTimers,
  status: rtdStatus,
  stateLabel: rtdStateLabel,
  pendingEntes,
  nextDeadline,
  branches: {
    machine: rtdEnteMachine,
    title: 'Registrazione IPA di ogni ente',
    of: (s) => ctxOf(s).entes.map((e) => ({ ente: e.codiceIpa, state: e.branch })),
  },
  view: (s, now) => {
    const ctx = ctxOf(s);
    const day = now ? toRomeDate(now) : null;
    const inOffice = [...ctx.past, ...(ctx.current ? [ctx.current] : [])].find(
      (a) => day !== null && a.startDate <= day && (a.endedOn ?? a.endDate) >= day,
    );
    return {
      title: ctx.title,
      unione: ctx.unione,
      convention: ctx.convention,
      policy: ctx.policy,
      candidate: ctx.candidate,
      missingRequirement: missingRequirement(ctx),
      current: ctx.current,
      past: ctx.past,
      /** who holds the office today (a successor's predecessor serves until the day before D) */
      rtdInOffice: inOffice
        ? {
            name: inOffice.candidate.name,
            codiceFiscale: inOffice.candidate.codiceFiscale,
            seq: inOffice.seq,
          }
        : null,
      vacancy: ctx.vacancy
        ? {
            ...ctx.vacancy,
            daysOpen: day !== null ? Math.max(0, daysBetween(ctx.vacancy.since, day)) : null,
          }
        : null,
      vacancies: ctx.vacancies,
      lastIpaCheck: ctx.lastIpaCheck,
      nextIpaCheck: nextIpaCheck(ctx),
      entes: ctx.entes.map((e) => ({
        ente: e.codiceIpa,
        denominazione: e.denominazione,
        kind: e.kind,
        branch: e.branch,
        served: e.branch !== 'WITHDRAWN',
        servedFrom: e.servedFrom,
        servedUntil: e.servedUntil,
        referente: ctx.current?.referenti.find((r) => r.ente === e.codiceIpa) ?? null,
        ipa: e.ipa,
        ipaDeadline: e.ipaDeadline,
      })),
      servedCount: servedNow(ctx).length,
      tasks: ctx.tasks,
      closedReason: ctx.closedReason,
      today: day ?? (now ? today(now.toISOString()) : null),
    };
  },
};
