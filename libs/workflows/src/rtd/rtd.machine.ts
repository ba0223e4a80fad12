import { and, assign, setup } from 'xstate';
import { addCalendarDays, addDaysTerm, endOfDayRome, type IsoDate } from '@app/calendar';
import { guardFromRule, type Recipient } from '../definition';
import type { NotifyParams } from '../effects';
import { stepBranch, type BranchEvent } from './rtd.ente.machine';
import { daysBetween, RTD_RULES, servedNow, termEndMonths, today } from './rtd.rules';
import type {
  Appointment,
  Candidate,
  Deadline,
  EndReason,
  EnteService,
  RtdContext,
  RtdEvent,
  RtdInput,
} from './rtd.types';

/**
 * The RTD appointment (art. 17 CAD, DOMAIN.md §3.4): one process per convention in force, through successive
 * appointees. VACANT → CANDIDATE_SELECTED → (decreto) IN_OFFICE { APPOINTED → ACCEPTED → PUBLISHED → ACTIVE };
 * revocation, resignation, term end and end of the incarico lead back to VACANT; a successor's decree while
 * ACTIVE replaces the RTD with no gap; the convention's end closes the process (ENDED).
 *
 * Pure: time arrives as `event.at`; effects are `notify` actions with data params; timers are declared by
 * `rtdTimers` (rtd.definition.ts) from the state. Each ente's IPA registration is its own small machine
 * (rtd.ente.machine.ts), advanced with `stepBranch`. Every guard of an event with a rule IS that rule
 * (`guardFromRule(RTD_RULES[type])`), so the machine, the engine's 422 and allowedEvents agree.
 */
type Ctx = RtdContext;
type Ev = RtdEvent;

const deadline = (from: IsoDate, days: number, at: string): Deadline => {
  const date = addDaysTerm(from, days);
  return { date, dueAt: endOfDayRome(date).toISOString(), setAt: at, overdue: false };
};

const unioneOffice = (ctx: Ctx): Recipient[] => [
  { ente: ctx.unione, role: 'presidente' },
  { ente: ctx.unione, role: 'staff' },
];
const segretari = (ctx: Ctx): Recipient[] =>
  servedNow(ctx).map((e) => ({ ente: e.codiceIpa, role: 'segretario' as const }));
const appointee = (ctx: Ctx): Recipient[] => [{ ente: ctx.unione, role: 'appointee' }];
const appointeeData = (c: Candidate | undefined | null) =>
  c ? { name: c.name, codiceFiscale: c.codiceFiscale, pec: c.pec, email: c.email } : null;

const mapEntes = (ctx: Ctx, f: (e: EnteService) => EnteService): EnteService[] => ctx.entes.map(f);
const branch = (e: EnteService, type: BranchEvent): EnteService => ({
  ...e,
  branch: stepBranch(e.branch, type),
});

const OWN_RTD_TASK = (name: string, from: IsoDate) =>
  `${name}: dal ${from} non è servito dall’RTD associato; deve nominare un proprio RTD (art. 17 CAD) e aggiornare IPA`;

/** close the appointment in office on `lastDay` and open the vacancy the day after */
function endCurrent(
  ctx: Ctx,
  lastDay: IsoDate,
  reason: EndReason,
  at: string,
  act?: Appointment['endAct'],
) {
  const cur = ctx.current;
  const past = cur
    ? [...ctx.past, { ...cur, endedOn: lastDay, endReason: reason, endAct: act ?? null }]
    : ctx.past;
  const since = addCalendarDays(lastDay, 1);
  return {
    current: null,
    past,
    candidate: null,
    vacancy: {
      since,
      reason,
      alerted: false,
      decreeDeadline: deadline(since > today(at) ? since : today(at), ctx.policy.decreeDays, at),
    },
  };
}

const none: NotifyParams = { template: 'none', to: [] };

/** what a reminder or an expired-term notice needs to say what is due, by when, and for which ente */
const termData = (ctx: Ctx, key: string): { deadline: IsoDate | null; enteName?: string } => {
  const ente = key.startsWith('ipa:')
    ? ctx.entes.find((e) => e.codiceIpa === key.slice(4))
    : undefined;
  return {
    deadline: deadlineOf(ctx, key)?.date ?? null,
    ...(ente ? { enteName: ente.denominazione } : {}),
  };
};

export const rtdMachine = setup({
  types: { context: {} as Ctx, events: {} as Ev, input: {} as RtdInput },
  actions: {
    // executed by the engine (outbox), never here
    notify: (_: unknown, _params: NotifyParams) => {},
    selectCandidate: assign(({ event }) => {
      if (event.type !== 'rtd.candidate.select') return {};
      const p = event.payload;
      const candidate: Candidate = {
        name: p.name,
        codiceFiscale: p.codiceFiscale,
        pec: p.pec ?? null,
        email: p.email ?? null,
        level: p.level ?? null,
        enteHasDirigenti: p.enteHasDirigenti ?? null,
        competences: {
          tecnologiche: p.competences?.tecnologiche ?? false,
          giuridiche: p.competences?.giuridiche ?? false,
          manageriali: p.competences?.manageriali ?? false,
        },
        declarations: {
          inconferibilita: p.declarations?.inconferibilita ?? false,
          incompatibilita: p.declarations?.incompatibilita ?? false,
        },
        incaricoEnd: p.incaricoEnd ?? null,
        selectedAt: event.at,
        selectedBy: event.actor,
      };
      return { candidate };
    }),
    withdrawCandidate: assign({ candidate: null }),
    /** the decree: a new appointment; a predecessor in office ends the day before (no gap); IPA must follow */
    issueDecree: assign(({ context, event }) => {
      if (event.type !== 'rtd.decree.issue' || !context.candidate) return {};
      const p = event.payload;
      const past = [...context.past];
      const cur = context.current;
      if (cur) {
        past.push({
          ...cur,
          endedOn: addCalendarDays(p.startDate, -1),
          endReason: 'SOSTITUZIONE',
          endAct: { number: p.act.number, date: p.act.date, reason: 'Nomina del successore' },
        });
      }
      const vacancies = context.vacancy
        ? [
            ...context.vacancies,
            {
              since: context.vacancy.since,
              filledOn: p.startDate,
              days: Math.max(0, daysBetween(context.vacancy.since, p.startDate)),
              reason: context.vacancy.reason,
            },
          ]
        : context.vacancies;
      const appointment: Appointment = {
        seq: past.length + 1,
        candidate: context.candidate,
        act: p.act,
        startDate: p.startDate,
        endDate: termEndMonths(p.startDate, p.durationMonths),
        durationMonths: p.durationMonths,
        entes: p.entes,
        referenti: p.referenti.map((r) => ({ ente: r.ente, name: r.name, email: r.email ?? null })),
        notifiedAt: null,
        acceptedAt: null,
        publications: { albo: null, trasparenza: null },
        activeSince: null,
        acceptanceDeadline: deadline(p.act.date, context.policy.acceptanceDays, event.at),
        publicationDeadline: null,
        endedOn: null,
        endReason: null,
        endAct: null,
      };
      return {
        current: appointment,
        past,
        candidate: null,
        vacancy: null,
        vacancies,
        entes: mapEntes(context, (e) => ({
          ...branch(e, 'appointee.change'),
          ipaDeadline: null,
          servedFrom: e.servedFrom ?? p.startDate,
        })),
      };
    }),
    recordNotification: assign(({ context, event }) => {
      if (event.type !== 'rtd.notification.record' || !context.current) return {};
      const from = today(event.payload.deliveredAt);
      return {
        current: {
          ...context.current,
          notifiedAt: event.payload.deliveredAt,
          // the acceptance term runs from the PEC delivery receipt
          acceptanceDeadline: deadline(from, context.policy.acceptanceDays, event.at),
        },
      };
    }),
    accept: assign(({ context, event }) => {
      if (event.type !== 'rtd.accept' || !context.current) return {};
      return {
        current: {
          ...context.current,
          acceptedAt: event.at,
          acceptanceDeadline: null,
          candidate: {
            ...context.current.candidate,
            declarations: { ...event.payload.declarations },
          },
          publicationDeadline: deadline(today(event.at), context.policy.publicationDays, event.at),
        },
      };
    }),
    recordPublication: assign(({ context, event }) => {
      if (event.type !== 'rtd.publication.record' || !context.current) return {};
      const p = event.payload;
      const pub = { date: p.date, reference: p.reference, recordedAt: event.at };
      const publications =
        p.channel === 'ALBO'
          ? { ...context.current.publications, albo: pub }
          : { ...context.current.publications, trasparenza: pub };
      if (!publications.albo || !publications.trasparenza)
        return { current: { ...context.current, publications } };
      // both published: every ente still to register gets its own IPA term, from the publication (the later
      // of the two dates), not from the day it is recorded in Iter
      const published =
        publications.albo.date > publications.trasparenza.date
          ? publications.albo.date
          : publications.trasparenza.date;
      return {
        current: { ...context.current, publications, publicationDeadline: null },
        entes: mapEntes(context, (e) =>
          e.branch === 'IPA_PENDING' && !e.ipaDeadline
            ? { ...e, ipaDeadline: deadline(published, context.policy.ipaDays, event.at) }
            : e,
        ),
      };
    }),
    confirmIpa: assign(({ context, event }) => {
      if (event.type !== 'rtd.ipa.confirm') return {};
      const p = event.payload;
      const entes = mapEntes(context, (e) =>
        e.codiceIpa === p.ente
          ? {
              ...branch(e, 'ipa.confirm'),
              ipaDeadline: null,
              ipa: {
                registeredOn: p.registeredOn,
                reference: p.reference ?? null,
                confirmedAt: event.at,
                confirmedBy: event.actor,
              },
            }
          : e,
      );
      const allDone = entes.every((e) => e.branch === 'IPA_REGISTERED' || e.branch === 'WITHDRAWN');
      if (!allDone) return { entes };
      // the last confirmation: the RTD is fully active from now, and this is the last complete IPA check
      return {
        entes,
        lastIpaCheck: today(event.at),
        current:
          context.current && context.current.publications.trasparenza
            ? { ...context.current, activeSince: context.current.activeSince ?? event.at }
            : context.current,
      };
    }),
    startRecheck: assign(({ context, event }) => ({
      entes: mapEntes(context, (e) =>
        e.branch === 'IPA_REGISTERED'
          ? {
              ...branch(e, 'ipa.recheck'),
              ipaDeadline: deadline(today(event.at), context.policy.ipaDays, event.at),
            }
          : e,
      ),
    })),
    revoke: assign(({ context, event }) =>
      event.type === 'rtd.revoke'
        ? endCurrent(
            context,
            addCalendarDays(event.payload.effectiveDate, -1),
            'REVOCA',
            event.at,
            {
              number: event.payload.number,
              date: event.payload.date,
              reason: event.payload.reason,
            },
          )
        : {},
    ),
    resign: assign(({ context, event }) =>
      event.type === 'rtd.resignation.record'
        ? endCurrent(
            context,
            addCalendarDays(event.payload.effectiveDate, -1),
            'DIMISSIONI',
            event.at,
          )
        : {},
    ),
    decline: assign(({ context, event }) =>
      event.type === 'rtd.decline'
        ? endCurrent(context, addCalendarDays(today(event.at), -1), 'RINUNCIA', event.at, {
            number: '',
            date: today(event.at),
            reason: event.payload.reason,
          })
        : {},
    ),
    /**
     * The successor named to replace an RTD in office declines before its start: its decree never took effect, so
     * the incumbent's appointment goes on as it was (no vacancy, no gap) and IPA, which still names it, stands.
     */
    declineSuccessor: assign(({ context, event }) => {
      const cur = context.current;
      const prev = context.past.at(-1);
      if (event.type !== 'rtd.decline' || !cur || !prev) return {};
      return {
        current: { ...prev, endedOn: null, endReason: null, endAct: null },
        past: [
          ...context.past.slice(0, -1),
          {
            ...cur,
            acceptanceDeadline: null,
            endedOn: addCalendarDays(cur.startDate, -1),
            endReason: 'RINUNCIA' as const,
            endAct: { number: '', date: today(event.at), reason: event.payload.reason },
          },
        ],
        entes: mapEntes(context, (e) =>
          e.branch === 'WITHDRAWN'
            ? e
            : e.ipa
              ? { ...e, branch: 'IPA_REGISTERED' as const, ipaDeadline: null }
              : { ...e, ipaDeadline: deadline(today(event.at), context.policy.ipaDays, event.at) },
        ),
      };
    }),
    incaricoEnds: assign(({ context, event }) =>
      event.type === 'rtd.incarico.end'
        ? endCurrent(context, addCalendarDays(event.payload.date, -1), 'FINE_INCARICO', event.at, {
            number: '',
            date: event.payload.date,
            reason: event.payload.reason,
          })
        : {},
    ),
    termEnds: assign(({ context, event }) =>
      event.type === 'rtd.term.expire' && context.current
        ? endCurrent(context, context.current.endDate, 'SCADENZA', event.at)
        : {},
    ),
    markOverdue: assign(({ context, event }) => {
      if (event.type !== 'rtd.deadline.expire') return {};
      const k = event.payload.key;
      const late = (d: Deadline | null) => (d ? { ...d, overdue: true } : d);
      if (k === 'decree' && context.vacancy)
        return {
          vacancy: { ...context.vacancy, decreeDeadline: late(context.vacancy.decreeDeadline)! },
        };
      if (k === 'acceptance' && context.current)
        return {
          current: {
            ...context.current,
            acceptanceDeadline: late(context.current.acceptanceDeadline),
          },
        };
      if (k === 'publication' && context.current)
        return {
          current: {
            ...context.current,
            publicationDeadline: late(context.current.publicationDeadline),
          },
        };
      if (k.startsWith('ipa:')) {
        const ente = k.slice(4);
        return {
          entes: mapEntes(context, (e) =>
            e.codiceIpa === ente ? { ...e, ipaDeadline: late(e.ipaDeadline) } : e,
          ),
        };
      }
      return {};
    }),
    /** a comune joining the convention in force: served from today, its IPA task armed */
    addEnte: assign(({ context, event }) => {
      if (event.type !== 'rtd.ente.add' || !event.payload.enteFacts) return {};
      const f = event.payload.enteFacts;
      const row: EnteService = {
        ...f,
        branch: 'IPA_PENDING',
        servedFrom: event.payload.date,
        servedUntil: null,
        ipa: null,
        ipaDeadline: context.current?.publications.albo
          ? deadline(today(event.at), context.policy.ipaDays, event.at)
          : null,
      };
      const known = context.entes.some((e) => e.codiceIpa === f.codiceIpa);
      return {
        entes: known
          ? context.entes.map((e) => (e.codiceIpa === f.codiceIpa ? row : e))
          : [...context.entes, row],
        current: context.current
          ? {
              ...context.current,
              entes: [...context.current.entes.filter((x) => x !== f.codiceIpa), f.codiceIpa],
            }
          : null,
      };
    }),
    /** recesso effective: the RTD stops serving the comune on that date; it must appoint its own */
    withdrawEnte: assign(({ context, event }) => {
      if (event.type !== 'rtd.ente.withdraw') return {};
      const p = event.payload;
      const e = context.entes.find((x) => x.codiceIpa === p.ente);
      return {
        entes: mapEntes(context, (x) =>
          x.codiceIpa === p.ente
            ? {
                ...branch(x, 'withdraw'),
                ipaDeadline: null,
                servedUntil: addCalendarDays(p.date, -1),
              }
            : x,
        ),
        tasks: [
          ...context.tasks,
          {
            ente: p.ente,
            text: OWN_RTD_TASK(e?.denominazione ?? p.ente, p.date),
            raisedAt: event.at,
          },
        ],
      };
    }),
    conventionEnds: assign(({ context, event }) => {
      if (event.type !== 'rtd.convention.end') return {};
      const lastDay = addCalendarDays(event.payload.date, -1);
      const ended = context.current
        ? endCurrent(context, lastDay, 'FINE_CONVENZIONE', event.at)
        : { past: context.past, current: null };
      return {
        past: ended.past,
        current: null,
        candidate: null,
        vacancy: null,
        closedReason: event.payload.reason,
        entes: mapEntes(context, (e) =>
          e.branch === 'WITHDRAWN'
            ? e
            : { ...branch(e, 'withdraw'), ipaDeadline: null, servedUntil: lastDay },
        ),
        tasks: [
          ...context.tasks,
          ...servedNow(context).map((e) => ({
            ente: e.codiceIpa,
            text: OWN_RTD_TASK(e.denominazione, event.payload.date),
            raisedAt: event.at,
          })),
        ],
      };
    }),
  },
  guards: {
    candidateOk: guardFromRule(RTD_RULES['rtd.candidate.select']),
    decreeOk: guardFromRule(RTD_RULES['rtd.decree.issue']),
    notificationOk: guardFromRule(RTD_RULES['rtd.notification.record']),
    acceptOk: guardFromRule(RTD_RULES['rtd.accept']),
    publicationOk: guardFromRule(RTD_RULES['rtd.publication.record']),
    ipaOk: guardFromRule(RTD_RULES['rtd.ipa.confirm']),
    revokeOk: guardFromRule(RTD_RULES['rtd.revoke']),
    resignationOk: guardFromRule(RTD_RULES['rtd.resignation.record']),
    incaricoEndOk: guardFromRule(RTD_RULES['rtd.incarico.end']),
    isAlbo: ({ event }) =>
      event.type === 'rtd.publication.record' && event.payload.channel === 'ALBO',
    isTrasparenza: ({ event }) =>
      event.type === 'rtd.publication.record' &&
      event.payload.channel === 'AMMINISTRAZIONE_TRASPARENTE',
    allIpaRegistered: ({ context }) =>
      servedNow(context).every((e) => e.branch === 'IPA_REGISTERED'),
    recheckDue: ({ context, event }) =>
      event.type === 'rtd.ipa.recheck' &&
      context.lastIpaCheck !== null &&
      today(event.at) >= event.payload.date,
    termDue: ({ context, event }) =>
      event.type === 'rtd.term.expire' &&
      context.current !== null &&
      event.payload.date === addCalendarDays(context.current.endDate, 1) &&
      today(event.at) >= event.payload.date,
    /** a deadline event acts only if that very deadline is still open */
    deadlineStillOpen: ({ context, event }) => {
      if (event.type !== 'rtd.deadline.expire' && event.type !== 'rtd.reminder') return false;
      const d = deadlineOf(context, event.payload.key);
      if (!d || d.overdue) return false;
      return event.type === 'rtd.reminder' || event.payload.dueAt === d.dueAt;
    },
    servesEnte: ({ context, event }) =>
      event.type === 'rtd.ente.withdraw' &&
      context.entes.some((e) => e.codiceIpa === event.payload.ente && e.branch !== 'WITHDRAWN'),
    newEnte: ({ context, event }) =>
      event.type === 'rtd.ente.add' &&
      event.payload.enteFacts !== undefined &&
      !context.entes.some((e) => e.codiceIpa === event.payload.ente && e.branch !== 'WITHDRAWN'),
    vacancyNotAlerted: ({ context }) => context.vacancy !== null && !context.vacancy.alerted,
    /** the appointment being declined replaces an RTD still in office (its decree named a start not reached yet) */
    replacesIncumbent: ({ context, event }) => {
      const cur = context.current;
      const prev = context.past.at(-1);
      return (
        event.type === 'rtd.decline' &&
        cur !== null &&
        today(event.at) < cur.startDate &&
        prev !== undefined &&
        prev.endReason === 'SOSTITUZIONE' &&
        prev.endedOn === addCalendarDays(cur.startDate, -1)
      );
    },
  },
}).createMachine({
  id: 'rtd',
  context: ({ input }) => ({
    title: input.title,
    unione: input.unione.codiceIpa,
    convention: input.convention,
    policy: input.policy,
    entes: [input.unione, ...input.members].map((f) => ({
      ...f,
      branch: 'IPA_PENDING' as const,
      servedFrom: null,
      servedUntil: null,
      ipa: null,
      ipaDeadline: null,
    })),
    candidate: null,
    current: null,
    past: [],
    vacancy: {
      since: input.since,
      reason: 'AVVIO',
      alerted: false,
      decreeDeadline: {
        ...deadlineFromDate(input.since, input.policy.decreeDays),
        setAt: `${input.since}T00:00:00.000Z`,
        overdue: false,
      },
    },
    vacancies: [],
    lastIpaCheck: null,
    remindersSent: 0,
    tasks: input.outsiders.map((o) => ({
      ente: o.codiceIpa,
      text: `${o.denominazione} non partecipa alla gestione associata: deve nominare un proprio RTD e verificare i dati su IPA (art. 17 CAD)`,
      raisedAt: `${input.since}T00:00:00.000Z`,
    })),
    closedReason: null,
  }),
  initial: 'VACANT',
  // signals from the convention reach the RTD whatever its state (until it ends)
  on: {
    'rtd.ente.add': {
      guard: 'newEnte',
      description:
        'un comune aderisce alla convenzione in vigore: l’RTD lo serve, IPA da aggiornare',
      actions: [
        'addEnte',
        {
          type: 'notify',
          params: ({ context, event }): NotifyParams =>
            event.type === 'rtd.ente.add'
              ? {
                  template: 'rtd.ipa-requested',
                  to: [{ ente: event.payload.ente, role: 'segretario' }, ...unioneOffice(context)],
                  data: {
                    title: context.title,
                    ente: event.payload.ente,
                    appointee: appointeeData(context.current?.candidate),
                  },
                }
              : none,
        },
      ],
    },
    'rtd.ente.withdraw': {
      guard: 'servesEnte',
      description:
        'recesso efficace: l’RTD non serve più il comune, che deve nominarne uno proprio',
      actions: [
        'withdrawEnte',
        {
          type: 'notify',
          params: ({ context, event }): NotifyParams => ({
            template: 'rtd.own-rtd-required',
            to:
              event.type === 'rtd.ente.withdraw'
                ? [
                    { ente: event.payload.ente, role: 'sindaco' },
                    { ente: event.payload.ente, role: 'segretario' },
                    ...unioneOffice(context),
                  ]
                : [],
            data: { title: context.title, task: context.tasks.at(-1)?.text },
          }),
        },
      ],
    },
    'rtd.convention.end': {
      target: '.ENDED',
      description: 'la convenzione è sciolta o scaduta: la nomina associata termina',
      actions: 'conventionEnds',
    },
    'rtd.deadline.expire': {
      guard: 'deadlineStillOpen',
      description: 'un termine è scaduto: segnalato, il procedimento resta dov’è',
      actions: [
        'markOverdue',
        {
          type: 'notify',
          params: ({ context, event }): NotifyParams =>
            event.type === 'rtd.deadline.expire'
              ? {
                  template: 'rtd.deadline-expired',
                  to: [
                    ...unioneOffice(context),
                    ...(event.payload.key.startsWith('ipa:')
                      ? [{ ente: event.payload.key.slice(4), role: 'segretario' as const }]
                      : []),
                    ...(event.payload.key === 'acceptance' ? appointee(context) : []),
                  ],
                  data: {
                    title: context.title,
                    key: event.payload.key,
                    ...termData(context, event.payload.key),
                    appointee: appointeeData(context.current?.candidate),
                  },
                }
              : none,
        },
      ],
    },
    'rtd.reminder': {
      guard: 'deadlineStillOpen',
      description: 'promemoria prima di un termine',
      actions: [
        assign(({ context }) => ({ remindersSent: context.remindersSent + 1 })),
        {
          type: 'notify',
          params: ({ context, event }): NotifyParams =>
            event.type === 'rtd.reminder'
              ? {
                  template: 'rtd.reminder',
                  to: [
                    ...unioneOffice(context),
                    ...(event.payload.key.startsWith('ipa:')
                      ? [{ ente: event.payload.key.slice(4), role: 'segretario' as const }]
                      : []),
                    ...(event.payload.key === 'acceptance' ? appointee(context) : []),
                  ],
                  data: {
                    title: context.title,
                    key: event.payload.key,
                    ...termData(context, event.payload.key),
                    daysBefore: event.payload.daysBefore,
                    appointee: appointeeData(context.current?.candidate),
                  },
                }
              : none,
        },
      ],
    },
  },
  states: {
    VACANT: {
      description:
        'nessun RTD in carica: allerta immediata, si misura il tempo fino alla nuova nomina',
      tags: ['vacant'],
      meta: { timers: ['decree (deadline, decreeDays dalla vacanza)', 'reminder:decree:<n>'] },
      entry: [
        {
          type: 'notify',
          params: ({ context }): NotifyParams =>
            context.vacancy && !context.vacancy.alerted
              ? {
                  template: 'rtd.vacancy',
                  to: [...unioneOffice(context), ...segretari(context)],
                  data: {
                    title: context.title,
                    since: context.vacancy.since,
                    reason: context.vacancy.reason,
                    decreeBy: context.vacancy.decreeDeadline.date,
                  },
                }
              : none,
        },
        assign(({ context }) =>
          context.vacancy ? { vacancy: { ...context.vacancy, alerted: true } } : {},
        ),
      ],
      on: {
        'rtd.candidate.select': {
          guard: 'candidateOk',
          target: 'CANDIDATE_SELECTED',
          description: 'il Presidente (o lo staff) individua il candidato e i suoi requisiti',
          actions: 'selectCandidate',
        },
      },
    },
    CANDIDATE_SELECTED: {
      description: 'candidato individuato: requisiti verificati all’atto di nomina',
      tags: ['vacant'],
      meta: { timers: ['decree (deadline, decreeDays dalla vacanza)', 'reminder:decree:<n>'] },
      on: {
        'rtd.candidate.select': {
          guard: 'candidateOk',
          description: 'aggiorna o sostituisce il candidato',
          actions: 'selectCandidate',
        },
        'rtd.candidate.withdraw': {
          target: 'VACANT',
          description: 'il candidato non è più proposto',
          actions: 'withdrawCandidate',
        },
        'rtd.decree.issue': {
          guard: 'decreeOk',
          target: 'IN_OFFICE',
          description: 'decreto del Presidente (o delibera/determina): requisiti completi',
          actions: 'issueDecree',
        },
      },
    },
    IN_OFFICE: {
      description: 'un RTD nominato: dall’atto alla piena operatività',
      tags: ['in-office'],
      initial: 'APPOINTED',
      meta: { timers: ['term-end (fine del termine: endDate + 1)'] },
      on: {
        'rtd.revoke': {
          guard: 'revokeOk',
          target: 'VACANT',
          description: 'revoca con decreto motivato',
          actions: 'revoke',
        },
        'rtd.resignation.record': {
          guard: 'resignationOk',
          target: 'VACANT',
          description: 'dimissioni dell’RTD',
          actions: 'resign',
        },
        'rtd.incarico.end': {
          guard: 'incaricoEndOk',
          target: 'VACANT',
          description: 'termina l’incarico dirigenziale o EQ sottostante',
          actions: 'incaricoEnds',
        },
        'rtd.term.expire': {
          guard: 'termDue',
          target: 'VACANT',
          description: 'scade il termine della nomina',
          actions: 'termEnds',
        },
      },
      states: {
        APPOINTED: {
          description:
            'atto adottato: notifica PEC all’interessato, accettazione con dichiarazioni',
          tags: ['awaiting-appointee'],
          meta: { timers: ['acceptance (deadline, acceptanceDays)', 'reminder:acceptance:<n>'] },
          entry: {
            type: 'notify',
            params: ({ context }): NotifyParams => ({
              template: 'rtd.decree-issued',
              to: [...appointee(context), ...unioneOffice(context)],
              data: {
                title: context.title,
                appointee: appointeeData(context.current?.candidate),
                act: context.current?.act,
                startDate: context.current?.startDate,
                endDate: context.current?.endDate,
                acceptBy: context.current?.acceptanceDeadline?.date,
              },
            }),
          },
          initial: 'NOTIFICATION_PENDING',
          states: {
            NOTIFICATION_PENDING: {
              description: 'in attesa della ricevuta di consegna PEC del decreto',
              on: {
                'rtd.notification.record': {
                  guard: 'notificationOk',
                  target: 'AWAITING_ACCEPTANCE',
                  description: 'registra la consegna PEC: il termine per accettare decorre da qui',
                  actions: 'recordNotification',
                },
              },
            },
            AWAITING_ACCEPTANCE: {
              description: 'notificato: si attende l’accettazione',
            },
          },
          on: {
            'rtd.accept': {
              guard: 'acceptOk',
              target: 'ACCEPTED',
              description: 'l’interessato accetta e rende le dichiarazioni',
              actions: [
                'accept',
                {
                  type: 'notify',
                  params: ({ context }): NotifyParams => ({
                    template: 'rtd.accepted',
                    to: unioneOffice(context),
                    data: {
                      title: context.title,
                      appointee: appointeeData(context.current?.candidate),
                      publishBy: context.current?.publicationDeadline?.date,
                    },
                  }),
                },
              ],
            },
            'rtd.decline': [
              {
                guard: 'replacesIncumbent',
                target: '#rtd.IN_OFFICE.ACTIVE',
                description:
                  'il successore rinuncia prima di iniziare: l’RTD in carica prosegue, nessuna vacanza',
                actions: 'declineSuccessor',
              },
              {
                target: '#rtd.VACANT',
                description: 'l’interessato rinuncia',
                actions: 'decline',
              },
            ],
          },
        },
        ACCEPTED: {
          description: 'accettato: pubblicazione all’albo e in Amministrazione Trasparente',
          tags: ['awaiting-publication'],
          type: 'parallel',
          meta: { timers: ['publication (deadline, publicationDays)', 'reminder:publication:<n>'] },
          onDone: { target: 'PUBLISHED', description: 'entrambe le pubblicazioni registrate' },
          states: {
            ALBO: {
              initial: 'PENDING',
              states: {
                PENDING: {
                  description: 'da pubblicare all’albo pretorio online',
                  on: {
                    'rtd.publication.record': {
                      guard: and(['isAlbo', 'publicationOk']),
                      target: 'DONE',
                      description: 'pubblicato all’albo',
                      actions: 'recordPublication',
                    },
                  },
                },
                DONE: { type: 'final', description: 'pubblicato all’albo' },
              },
            },
            TRASPARENZA: {
              initial: 'PENDING',
              states: {
                PENDING: {
                  description: 'da pubblicare in Amministrazione Trasparente (D.Lgs. 33/2013)',
                  on: {
                    'rtd.publication.record': {
                      guard: and(['isTrasparenza', 'publicationOk']),
                      target: 'DONE',
                      description: 'pubblicato in Amministrazione Trasparente',
                      actions: 'recordPublication',
                    },
                  },
                },
                DONE: { type: 'final', description: 'pubblicato in Amministrazione Trasparente' },
              },
            },
          },
        },
        PUBLISHED: {
          description: 'pubblicato: ogni ente servito registra l’RTD su IPA, ciascuno per sé',
          tags: ['awaiting-ipa'],
          meta: {
            timers: ['ipa:<ente> (deadline, ipaDays) per ogni ente', 'reminder:ipa:<ente>:<n>'],
          },
          entry: [
            {
              type: 'notify',
              params: ({ context }): NotifyParams => ({
                template: 'rtd.ipa-requested',
                to: [...segretari(context)],
                data: {
                  title: context.title,
                  appointee: appointeeData(context.current?.candidate),
                  registerBy: context.entes.find((e) => e.ipaDeadline)?.ipaDeadline?.date,
                },
              }),
            },
          ],
          always: {
            guard: 'allIpaRegistered',
            target: 'ACTIVE',
            description: 'IPA confermato per ogni ente servito',
          },
          on: {
            'rtd.ipa.confirm': {
              guard: 'ipaOk',
              description: 'il segretario conferma la registrazione IPA del proprio ente',
              actions: 'confirmIpa',
            },
          },
        },
        ACTIVE: {
          description: 'RTD in carica per ogni ente servito; IPA verificato ogni 6 mesi',
          tags: ['active'],
          initial: 'SERVING',
          entry: [
            {
              type: 'notify',
              params: ({ context }): NotifyParams => ({
                template: 'rtd.active',
                to: [...unioneOffice(context), ...segretari(context), ...appointee(context)],
                data: {
                  title: context.title,
                  appointee: appointeeData(context.current?.candidate),
                },
              }),
            },
          ],
          on: {
            'rtd.ipa.confirm': {
              guard: 'ipaOk',
              description: 'conferma IPA (nuovo ente aderente o verifica semestrale)',
              actions: 'confirmIpa',
            },
            'rtd.candidate.select': {
              guard: 'candidateOk',
              description: 'individua il successore (sostituzione senza interruzioni)',
              actions: 'selectCandidate',
            },
            'rtd.decree.issue': {
              guard: 'decreeOk',
              target: 'APPOINTED',
              description:
                'decreto del successore con inizio D: l’RTD in carica termina il giorno D-1',
              actions: 'issueDecree',
            },
          },
          states: {
            SERVING: {
              description: 'dati IPA verificati',
              meta: { timers: ['ipa-recheck (ipaRecheckMonths dall’ultima verifica)'] },
              on: {
                'rtd.ipa.recheck': {
                  guard: 'recheckDue',
                  target: 'RECHECKING',
                  description: 'verifica semestrale IPA: ogni ente conferma di nuovo',
                  actions: [
                    'startRecheck',
                    {
                      type: 'notify',
                      params: ({ context }): NotifyParams => ({
                        template: 'rtd.ipa-recheck',
                        to: segretari(context),
                        data: {
                          title: context.title,
                          appointee: appointeeData(context.current?.candidate),
                          confirmBy: context.entes.find((e) => e.ipaDeadline)?.ipaDeadline?.date,
                        },
                      }),
                    },
                  ],
                },
              },
            },
            RECHECKING: {
              description: 'verifica semestrale in corso',
              meta: { timers: ['ipa:<ente> (deadline, ipaDays)'] },
              always: {
                guard: 'allIpaRegistered',
                target: 'SERVING',
                description: 'ogni ente ha confermato i dati IPA',
              },
            },
          },
        },
      },
    },
    ENDED: {
      type: 'final',
      description: 'la convenzione è terminata: ogni comune deve nominare un proprio RTD',
      tags: ['ended'],
      entry: {
        type: 'notify',
        params: ({ context }): NotifyParams => ({
          template: 'rtd.ended',
          to: [
            ...unioneOffice(context),
            ...context.entes.map((e) => ({ ente: e.codiceIpa, role: 'segretario' as const })),
            ...(context.past.at(-1)?.endReason === 'FINE_CONVENZIONE' ? appointee(context) : []),
          ],
          data: {
            title: context.title,
            reason: context.closedReason,
            appointee: appointeeData(context.past.at(-1)?.candidate),
          },
        }),
      },
    },
  },
});

function deadlineFromDate(from: IsoDate, days: number): { date: IsoDate; dueAt: string } {
  const date = addDaysTerm(from, days);
  return { date, dueAt: endOfDayRome(date).toISOString() };
}

/** the open deadline a timer key names */
export function deadlineOf(ctx: Ctx, key: string): Deadline | null {
  if (key === 'decree') return ctx.vacancy?.decreeDeadline ?? null;
  if (key === 'acceptance') return ctx.current?.acceptanceDeadline ?? null;
  if (key === 'publication') return ctx.current?.publicationDeadline ?? null;
  if (key.startsWith('ipa:'))
    return ctx.entes.find((e) => e.codiceIpa === key.slice(4))?.ipaDeadline ?? null;
  return null;
}
