import { assign, setup } from 'xstate';
import {
  addCalendarDays,
  addDaysTerm,
  compareIsoDate,
  endOfDayRome,
  executivityDate,
  instantInRome,
  publicationEnd,
  romeDateOf,
  toRomeDate,
  type IsoDate,
} from '@app/calendar';
import { sha256Hex } from '@app/common';
import type { NotifyParams, SignalParams, StartProcessParams } from '../effects';
import { applyDelivery } from './convention.delivery';
import type { Recipient } from '../definition';
import { ruleGuard } from '../definition';
import { CONVENTION_RULES, isActive, PRE_VOTE, reminderNotAfter } from './convention.rules';
import { ENTE_INITIAL, enteStep } from './ente-progress.machine';
import type {
  ConventionContext,
  ConventionEvent,
  ConventionInput,
  Deadline,
  Deliberation,
  EnteProgress,
  TextVersion,
} from './convention.types';

/**
 * The convention (art. 30 TUEL): DOMAIN.md §2.3 at the convention level, with the per-ente progress of §2.4
 * kept in context (one row per ente, the Unione first), from the first frozen text to the convention in force,
 * and its later life: amendment, recesso, late adhesion, express renewal, expiry, scioglimento.
 *
 * Pure: no clock (time arrives as `event.at`), no I/O. Effects are `notify` actions with data params, turned
 * into outbox rows by the engine. Timers are declared by `conventionTimers` (convention.definition.ts) from the
 * state, not by delayed events: XState does not restore delayed events from a snapshot.
 */
type Ctx = ConventionContext;
type Ev = ConventionEvent;

/** a council term of `days` from `fromDate` (start day excluded, holiday-shifted; Saturday per policy) */
const deadlineFrom = (
  policy: Ctx['policy'],
  fromDate: IsoDate,
  days: number,
  at: string,
  extensions: number,
): Deadline => {
  // DOMAIN.md §4.1: a term ending on a Saturday moves to Monday only where the policy says so
  const date = addDaysTerm(fromDate, days, { saturdayExtends: policy.saturdayExtends === true });
  return { date, dueAt: endOfDayRome(date).toISOString(), setAt: at, extensions, overdue: false };
};

const today = (at: string): IsoDate => toRomeDate(new Date(at));

/** plain calendar arithmetic for a fixed term: from + N years - 1 day (29 Feb → 28 Feb) */
export function termEnd(from: IsoDate, years: number): IsoDate {
  const [y, m, d] = from.split('-').map(Number) as [number, number, number];
  const lastDay = new Date(Date.UTC(y + years, m, 0)).getUTCDate();
  // a missing anniversary (29 Feb) ends the term on the last day of the month (art. 2963 c.4 c.c.)
  if (d > lastDay) return new Date(Date.UTC(y + years, m - 1, lastDay)).toISOString().slice(0, 10);
  return addCalendarDays(new Date(Date.UTC(y + years, m - 1, d)).toISOString().slice(0, 10), -1);
}

const mapEnte = (ctx: Ctx, ente: string, f: (e: EnteProgress) => EnteProgress): EnteProgress[] =>
  ctx.entes.map((e) => (e.codiceIpa === ente ? f(e) : e));

const unioneOffice = (ctx: Ctx): Recipient[] => [
  { ente: ctx.unione, role: 'presidente' },
  { ente: ctx.unione, role: 'staff' },
];
const segretari = (ctx: Ctx): Recipient[] =>
  ctx.entes.filter(isActive).map((e) => ({ ente: e.codiceIpa, role: 'segretario' as const }));
const councilOf = (ente: string): Recipient[] => [
  { ente, role: 'consiglio' },
  { ente, role: 'segretario' },
];
const nameOf = (ctx: Ctx, ente: string): string =>
  ctx.entes.find((e) => e.codiceIpa === ente)?.denominazione ?? ente;

const isOpen = (e: EnteProgress): boolean => PRE_VOTE.includes(e.status);
const hasApproved = (e: EnteProgress): boolean =>
  e.status === 'APPROVED' || e.status === 'EXECUTIVE';
/** the founding members deciding now (joining comuni follow their own path while the convention is in force) */
const founders = (ctx: Ctx): EnteProgress[] => ctx.entes.filter((e) => !e.joining);
/** the comuni taking part in this round: not receded, and (amending) not already out when the amendment opened */
const comuni = (ctx: Ctx): EnteProgress[] => {
  const outBefore = new Set(
    ctx.amending && ctx.beforeAmendment
      ? ctx.beforeAmendment.entes.filter((e) => !isActive(e)).map((e) => e.codiceIpa)
      : [],
  );
  return founders(ctx).filter(
    (e) => e.kind === 'COMUNE' && e.status !== 'RECEDUTO' && !outBefore.has(e.codiceIpa),
  );
};
const unioneRow = (ctx: Ctx): EnteProgress | undefined =>
  ctx.entes.find((e) => e.codiceIpa === ctx.unione);

/** QUORUM(min_entes, min_population_pct) over the comuni; UNANIMITY = every comune */
function quorumMet(ctx: Ctx): boolean {
  const all = comuni(ctx);
  const yes = all.filter(hasApproved);
  if (ctx.policy.approval === 'UNANIMITY') return yes.length === all.length;
  const min = ctx.policy.quorumMinEntes ?? all.length;
  const pop = (list: EnteProgress[]) => list.reduce((s, e) => s + (e.popolazione ?? 0), 0);
  const total = pop(all);
  const share = total === 0 ? 100 : (pop(yes) * 100) / total;
  return yes.length >= min && share >= ctx.policy.quorumMinPopulationPct;
}

/** could the rule still be met if every open council approved? */
function quorumReachable(ctx: Ctx): boolean {
  const unione = unioneRow(ctx);
  if (unione && (unione.status === 'REJECTED' || unione.status === 'NON_ADERENTE')) return false;
  const all = comuni(ctx);
  if (ctx.policy.approval === 'UNANIMITY')
    return all.every((e) => hasApproved(e) || isOpen(e) || e.status === 'APPROVED_WITH_AMENDMENTS');
  const min = ctx.policy.quorumMinEntes ?? all.length;
  const possible = all.filter(
    (e) => hasApproved(e) || isOpen(e) || e.status === 'APPROVED_WITH_AMENDMENTS',
  );
  const pop = (list: EnteProgress[]) => list.reduce((s, e) => s + (e.popolazione ?? 0), 0);
  const total = pop(all);
  const share = total === 0 ? 100 : (pop(possible) * 100) / total;
  return possible.length >= min && share >= ctx.policy.quorumMinPopulationPct;
}

const allDecided = (ctx: Ctx): boolean =>
  founders(ctx).every((e) => !isOpen(e) && e.status !== 'APPROVED_WITH_AMENDMENTS');
const unioneApproved = (ctx: Ctx): boolean => {
  const u = unioneRow(ctx);
  return u !== undefined && hasApproved(u);
};

/** an approval of an older text goes back to pending; its deliberation stays in the ente's history */
function resetForNewText(e: EnteProgress, newHash: string, version: number): EnteProgress {
  if (e.status === 'APPROVED_WITH_AMENDMENTS' && e.deliberation?.textHash === newHash) {
    // the council approved exactly the text now frozen: its deliberation approves the new version
    return {
      ...e,
      status: enteStep(e.status, 'newTextAsAmended'),
      deliberation: { ...e.deliberation, textVersion: version },
    };
  }
  if (!isActive(e)) return e;
  const past: Deliberation[] = e.deliberation ? [...e.sessions, e.deliberation] : e.sessions;
  return {
    ...e,
    status: enteStep(e.status, 'newText'),
    sessions: past,
    deliberation: null,
    executivity: null,
    signature: null,
    convened: null,
    deadline: null,
  };
}

const newVersion = (
  ctx: Ctx,
  text: string,
  at: string,
  by: Ctx['textVersions'][number]['frozenBy'],
): TextVersion => ({
  version: ctx.textVersions.length + 1,
  sha256: sha256Hex(text),
  length: text.length,
  frozenAt: at,
  frozenBy: by,
});

const blankEnte = (f: ConventionInput['unione'], joining: boolean): EnteProgress => ({
  ...f,
  status: ENTE_INITIAL,
  joining,
  deadline: null,
  convened: null,
  sessions: [],
  deliberation: null,
  executivity: null,
  signature: null,
  remindersSent: 0,
  recesso: null,
  acts: [],
  leftOn: null,
});

function reminderNotice(context: Ctx, event: Ev): NotifyParams {
  if (event.type !== 'convention.reminder') return { template: 'none', to: [] };
  const e = context.entes.find((x) => x.codiceIpa === event.payload.ente);
  return {
    template: 'convention.reminder',
    to: councilOf(event.payload.ente),
    data: {
      title: context.title,
      deadline: e?.deadline?.date,
      daysBefore: event.payload.daysBefore,
    },
  };
}

/** after `expire` ran: extended once, overdue, or NON_ADERENTE */
function expiryNotice(context: Ctx, event: Ev): NotifyParams {
  if (event.type !== 'convention.deadline.expire') return { template: 'none', to: [] };
  const e = context.entes.find((x) => x.codiceIpa === event.payload.ente);
  const template =
    e?.status === 'NON_ADERENTE'
      ? 'convention.non-aderente'
      : e?.deadline?.overdue
        ? 'convention.deadline-expired'
        : 'convention.deadline-extended';
  return {
    template,
    to: [...unioneOffice(context), ...councilOf(event.payload.ente)],
    data: {
      title: context.title,
      ente: nameOf(context, event.payload.ente),
      deadline: e?.deadline?.date,
      task: e?.status === 'NON_ADERENTE' ? NON_ADERENTE_TASK(e.denominazione) : undefined,
    },
  };
}

const NON_ADERENTE_TASK = (name: string) =>
  `${name} resta fuori dalla gestione associata: deve nominare un proprio RTD e verificare i dati su IPA (art. 17 CAD)`;

/** how a deliberation round ends, checked after every step of it (OPEN and STALLED alike) */
const ROUND_OUTCOMES = [
  { guard: 'anyAmendment', target: '#convention.AMENDMENT_PENDING' },
  { guard: 'amendmentFails', target: '#convention.IN_FORCE', actions: 'restoreBeforeAmendment' },
  { guard: 'cannotSucceed', target: '#convention.FAILED' },
  { guard: 'decidedAndMet', target: '#convention.APPROVED_ALL' },
  { guard: 'decidedNotMet', target: '#convention.FAILED' },
] as const;

/** abandoning an amendment of a convention in force leaves the convention in force as it was */
const ABANDON = [
  { guard: 'amending', target: '#convention.IN_FORCE', actions: 'restoreBeforeAmendment' },
  { target: '#convention.ABANDONED', actions: 'abandon' },
] as const;

export const conventionMachine = setup({
  types: {
    context: {} as Ctx,
    events: {} as Ev,
    input: {} as ConventionInput,
  },
  actions: {
    // executed by the engine (outbox), never here
    notify: (_: unknown, _params: NotifyParams) => {},
    recordDelivery: assign(({ context, event }) =>
      event.type === 'convention.delivery.receipt' || event.type === 'convention.delivery.record'
        ? { entes: applyDelivery(context, event) }
        : {},
    ),
    // process effects (issue 12): written by the engine in the step's transaction, carried out by the worker
    startProcess: (_: unknown, _params: StartProcessParams) => {},
    signal: (_: unknown, _params: SignalParams) => {},
    recordDeliberation: assign(({ context, event }) => {
      if (event.type !== 'convention.deliberation.record') return {};
      const p = event.payload;
      const deliberation: Deliberation = {
        organ: p.ente === context.unione ? 'CU' : 'CC',
        number: p.number,
        date: p.date,
        outcome: p.outcome,
        textHash: p.textHash ?? null,
        textVersion: p.outcome === 'APPROVED' ? (context.text?.version ?? null) : null,
        amendments: p.amendments ?? null,
        pareri: p.pareri ?? [],
        votes: p.votes ?? null,
        immediatamenteEseguibile: p.immediatamenteEseguibile ?? false,
        ieVotes: p.ieVotes ?? null,
        recordedAt: event.at,
        recordedBy: event.actor,
      };
      return {
        entes: mapEnte(context, p.ente, (e): EnteProgress => {
          switch (p.outcome) {
            case 'APPROVED':
              return deliberation.immediatamenteEseguibile
                ? {
                    ...e,
                    status: enteStep(e.status, 'approveImmediatelyExecutive'),
                    deliberation,
                    // art. 134 c.4 TUEL: executive on the day of the vote
                    executivity: {
                      basis: 'IMMEDIATA_ESEGUIBILITA',
                      publicationStart: null,
                      publicationEnd: null,
                      computedOn: p.date,
                      certifiedOn: p.date,
                      certifiedBy: event.actor,
                    },
                  }
                : { ...e, status: enteStep(e.status, 'approve'), deliberation };
            case 'APPROVED_WITH_AMENDMENTS':
              return { ...e, status: enteStep(e.status, 'approveWithAmendments'), deliberation };
            case 'REJECTED':
              return { ...e, status: enteStep(e.status, 'reject'), deliberation, leftOn: p.date };
            case 'RINVIATA':
            case 'SEDUTA_DESERTA':
              // no decision: the council will be convened again
              return {
                ...e,
                status: enteStep(e.status, 'postpone'),
                convened: null,
                sessions: [...e.sessions, deliberation],
              };
          }
        }),
      };
    }),
    convene: assign(({ context, event }) => {
      if (event.type !== 'convention.council.convene') return {};
      const p = event.payload;
      return {
        entes: mapEnte(context, p.ente, (e) => ({
          ...e,
          status: enteStep(e.status, 'convene'),
          convened: { sessionDate: p.sessionDate, noticeDate: p.noticeDate },
        })),
      };
    }),
    certifyExecutivity: assign(({ context, event }) => {
      if (event.type !== 'convention.executivity.certify') return {};
      const p = event.payload;
      return {
        entes: mapEnte(context, p.ente, (e) => ({
          ...e,
          status: enteStep(e.status, 'certifyExecutivity'),
          executivity: {
            basis: 'PUBBLICAZIONE',
            publicationStart: p.publicationStart,
            publicationEnd: publicationEnd(p.publicationStart),
            computedOn: executivityDate(p.publicationStart, context.policy.executivityReading),
            certifiedOn: p.executiveOn,
            certifiedBy: event.actor,
          },
        })),
      };
    }),
    sign: assign(({ context, event }) => {
      if (event.type !== 'convention.sign') return {};
      return {
        entes: mapEnte(context, event.payload.ente, (e) => ({
          ...e,
          status: enteStep(e.status, 'sign'),
          joining: false,
          signature: {
            signer: event.actor.subject,
            signerRole: event.actor.role,
            // a date alone is the start of that day in Rome
            signedAt: instantInRome(event.payload.signedAt).toISOString(),
            signatureType: event.payload.signatureType,
          },
        })),
      };
    }),
    abandon: assign(({ event }) => ({
      closedReason: event.type === 'convention.abandon' ? event.payload.reason : null,
    })),
    countReminder: assign(({ context, event }) => {
      if (event.type !== 'convention.reminder') return {};
      return {
        entes: mapEnte(context, event.payload.ente, (e) => ({
          ...e,
          remindersSent: e.remindersSent + 1,
        })),
      };
    }),
    /** the term passed: STALL marks it overdue; EXTEND_ONCE extends once, then the council is NON_ADERENTE */
    expire: assign(({ context, event }) => {
      if (event.type !== 'convention.deadline.expire') return {};
      const tasks = [...context.tasks];
      const entes = mapEnte(context, event.payload.ente, (e) => {
        if (!e.deadline) return e;
        if (context.policy.nonDeliberating === 'STALL')
          return { ...e, deadline: { ...e.deadline, overdue: true } };
        if (e.deadline.extensions === 0) {
          return {
            ...e,
            deadline: deadlineFrom(
              context.policy,
              e.deadline.date,
              context.policy.extensionDays,
              event.at,
              1,
            ),
          };
        }
        if (!e.joining)
          tasks.push({
            ente: e.codiceIpa,
            text: NON_ADERENTE_TASK(e.denominazione),
            raisedAt: event.at,
          });
        return {
          ...e,
          status: enteStep(e.status, 'lapse'),
          deadline: { ...e.deadline, overdue: true },
          // out from the day its term ended, however late the timer was processed
          leftOn: e.deadline.date,
        };
      });
      return { entes, tasks };
    }),
    extendDeadline: assign(({ context, event }) => {
      if (event.type !== 'convention.deadline.extend') return {};
      const p = event.payload;
      const now = today(event.at);
      return {
        entes: context.entes.map((e) =>
          isOpen(e) && e.deadline && (p.ente === undefined || p.ente === e.codiceIpa)
            ? {
                ...e,
                // counted from the later of the old term and today: an extension never ends in the past
                deadline: deadlineFrom(
                  context.policy,
                  compareIsoDate(e.deadline.date, now) >= 0 ? e.deadline.date : now,
                  p.days,
                  event.at,
                  e.deadline.extensions + 1,
                ),
              }
            : e,
        ),
      };
    }),
    acceptAmendment: assign(({ context, event }) => {
      if (
        event.type !== 'convention.amendment.accept' &&
        event.type !== 'convention.amendment.open'
      )
        return {};
      const version = newVersion(context, event.payload.text, event.at, event.actor);
      return {
        text: version,
        textVersions: [...context.textVersions, version],
        sentAt: null,
        entes: context.entes.map((e) => resetForNewText(e, version.sha256, version.version)),
      };
    }),
    refuseAmendment: assign(({ context, event }) => {
      // the council is asked to deliberate again on the current text: a new term from the refusal (its old one
      // may have passed while the working group decided), unless the old one ends later
      const fresh = deadlineFrom(
        context.policy,
        today(event.at),
        context.policy.councilDeadlineDays,
        event.at,
        0,
      );
      return {
        entes: context.entes.map((e) =>
          e.status === 'APPROVED_WITH_AMENDMENTS'
            ? {
                ...e,
                status: enteStep(e.status, 'amendmentRefused'),
                sessions: e.deliberation ? [...e.sessions, e.deliberation] : e.sessions,
                deliberation: null,
                convened: null,
                deadline:
                  e.deadline && !e.deadline.overdue && e.deadline.date > fresh.date
                    ? e.deadline
                    : fresh,
              }
            : e,
        ),
      };
    }),
    openAmendment: assign(({ context }) => ({
      amending: true,
      beforeAmendment: { text: context.text, entes: context.entes },
    })),
    /** an amendment of a convention in force failed or was abandoned: the convention stays in force as it was */
    restoreBeforeAmendment: assign(({ context }) =>
      context.beforeAmendment
        ? {
            text: context.beforeAmendment.text,
            entes: context.beforeAmendment.entes,
            beforeAmendment: null,
          }
        : {},
    ),
    openAdhesion: assign(({ context, event }) => {
      if (event.type !== 'convention.adhesion.open' || !event.payload.enteFacts) return {};
      const facts = event.payload.enteFacts;
      const row: EnteProgress = {
        ...blankEnte(facts, true),
        deadline: deadlineFrom(
          context.policy,
          today(event.at),
          context.policy.councilDeadlineDays,
          event.at,
          0,
        ),
      };
      const known = context.entes.find((e) => e.codiceIpa === facts.codiceIpa);
      return {
        entes: known
          ? context.entes.map((e) =>
              // an ente that was out asks to join again: its row starts over
              e.codiceIpa === facts.codiceIpa
                ? { ...row, status: enteStep(e.status, 'rejoin') }
                : e,
            )
          : [...context.entes, row],
      };
    }),
    admit: assign(({ context, event }) => {
      if (event.type !== 'convention.adhesion.accept') return {};
      return {
        entes: mapEnte(context, event.payload.ente, (e) => ({
          ...e,
          status: enteStep(e.status, 'admit'),
          admission: { number: event.payload.number, date: event.payload.date },
        })),
      };
    }),
    recordRecesso: assign(({ context, event }) => {
      if (event.type !== 'convention.recesso.record') return {};
      const { ente, number, date, effectiveDate } = event.payload;
      return {
        entes: mapEnte(context, ente, (e) => ({ ...e, recesso: { number, date, effectiveDate } })),
      };
    }),
    recessoEffective: assign(({ context, event }) => {
      if (event.type !== 'convention.recesso.effective') return {};
      const e = context.entes.find((x) => x.codiceIpa === event.payload.ente);
      return {
        entes: mapEnte(context, event.payload.ente, (x) => ({
          ...x,
          status: enteStep(x.status, 'recede'),
          leftOn: event.payload.date,
        })),
        tasks: [
          ...context.tasks,
          {
            ente: event.payload.ente,
            text: `${e?.denominazione ?? event.payload.ente}: recesso efficace dal ${event.payload.date}; nominare un proprio RTD e aggiornare IPA da quella data`,
            raisedAt: event.at,
          },
        ],
      };
    }),
    recordAct: assign(({ context, event }) => {
      if (
        event.type !== 'convention.renewal.record' &&
        event.type !== 'convention.dissolution.record'
      )
        return {};
      const act =
        event.type === 'convention.renewal.record'
          ? ('RINNOVO' as const)
          : ('SCIOGLIMENTO' as const);
      const { ente, number, date } = event.payload;
      return {
        entes: mapEnte(context, ente, (e) => ({ ...e, acts: [...e.acts, { act, number, date }] })),
      };
    }),
    renew: assign(({ context }) => ({
      expiresOn: context.expiresOn
        ? termEnd(addCalendarDays(context.expiresOn, 1), context.policy.durationYears)
        : null,
      entes: context.entes.map((e) => ({ ...e, acts: e.acts.filter((a) => a.act !== 'RINNOVO') })),
    })),
  },
  guards: {
    /** THE guard of every event a person sends: the rule of convention.rules.ts, written once */
    rule: ruleGuard<Ctx>(CONVENTION_RULES),
    amending: ({ context }) => context.amending,
    amendmentFails: ({ context }) =>
      context.amending &&
      (!quorumReachable(context) ||
        (allDecided(context) && !(unioneApproved(context) && quorumMet(context)))),
    anyAmendment: ({ context }) =>
      context.entes.some((e) => e.status === 'APPROVED_WITH_AMENDMENTS'),
    cannotSucceed: ({ context }) => !quorumReachable(context),
    decidedAndMet: ({ context }) =>
      allDecided(context) && unioneApproved(context) && quorumMet(context),
    decidedNotMet: ({ context }) =>
      allDecided(context) && !(unioneApproved(context) && quorumMet(context)),
    overdueStall: ({ context }) =>
      context.policy.nonDeliberating === 'STALL' &&
      founders(context).some((e) => isOpen(e) && e.deadline?.overdue === true),
    noneOverdue: ({ context }) =>
      !founders(context).some((e) => isOpen(e) && e.deadline?.overdue === true),
    allExecutive: ({ context }) =>
      founders(context)
        .filter(isActive)
        .every((e) => e.status === 'EXECUTIVE'),
    allSigned: ({ context }) =>
      founders(context)
        .filter(isActive)
        .every((e) => e.status === 'SIGNED'),
    decorrenzaReached: ({ context }) =>
      context.decorrenzaDate !== null &&
      context.stipulatedAt !== null &&
      context.decorrenzaDate <= toRomeDate(new Date(context.stipulatedAt)),
    decorrenzaDue: ({ context, event }) =>
      event.type === 'convention.decorrenza.reach' &&
      context.decorrenzaDate !== null &&
      today(event.at) >= context.decorrenzaDate,
    /** a timer event is acted on only if its ente still waits for a deliberation under that very deadline */
    timerStillDue: ({ context, event }) => {
      if (event.type !== 'convention.deadline.expire' && event.type !== 'convention.reminder')
        return false;
      const e = context.entes.find((x) => x.codiceIpa === event.payload.ente);
      if (!e || !isOpen(e) || !e.deadline || e.deadline.overdue) return false;
      if (event.type === 'convention.deadline.expire') {
        return (
          event.payload.dueAt === e.deadline.dueAt &&
          Date.parse(event.at) >= Date.parse(e.deadline.dueAt)
        );
      }
      // a reminder is never delivered at or after the deadline it reminds of, nor once a closer one is due
      return (
        Date.parse(event.at) <
        Date.parse(
          reminderNotAfter(context.policy.reminderDaysBefore, e.deadline, event.payload.daysBefore),
        )
      );
    },
    recessoDue: ({ context, event }) => {
      if (event.type !== 'convention.recesso.effective') return false;
      const e = context.entes.find((x) => x.codiceIpa === event.payload.ente);
      return !!e?.recesso && e.status !== 'RECEDUTO' && today(event.at) >= e.recesso.effectiveDate;
    },
    tooFewLeft: ({ context }) =>
      context.entes.some((e) => e.status === 'RECEDUTO') &&
      context.entes.filter((e) => e.kind === 'COMUNE' && isActive(e)).length <
        context.policy.minComuni,
    allRenewed: ({ context }) =>
      context.entes.filter(isActive).every((e) => e.acts.some((a) => a.act === 'RINNOVO')),
    allDissolved: ({ context }) =>
      context.entes.filter(isActive).every((e) => e.acts.some((a) => a.act === 'SCIOGLIMENTO')),
    expiryDue: ({ context, event }) =>
      event.type === 'convention.expire' &&
      context.expiresOn !== null &&
      today(event.at) > context.expiresOn,
  },
}).createMachine({
  id: 'convention',
  context: ({ input }) => ({
    title: input.title,
    unione: input.unione.codiceIpa,
    policy: input.policy,
    text: null,
    textVersions: [],
    sentAt: null,
    entes: [input.unione, ...input.members].map((f) => blankEnte(f, false)),
    stipulatedAt: null,
    decorrenzaDate: null,
    inForceFrom: null,
    inForceVersion: null,
    amending: false,
    beforeAmendment: null,
    expiresOn: null,
    closedReason: null,
    tasks: [],
  }),
  initial: 'DRAFT',
  // the later life of a convention in force goes on during an amendment loop too
  on: {
    'convention.recesso.effective': {
      guard: 'recessoDue',
      actions: [
        'recessoEffective',
        {
          type: 'notify',
          params: ({ context, event }): NotifyParams => ({
            template: 'convention.recesso-effective',
            to:
              event.type === 'convention.recesso.effective'
                ? [...unioneOffice(context), ...councilOf(event.payload.ente)]
                : [],
            data: { title: context.title, task: context.tasks.at(-1)?.text },
          }),
        },
        {
          // the RTD stops serving the comune on the recesso's effective date
          type: 'signal',
          params: ({ event }): SignalParams =>
            event.type === 'convention.recesso.effective'
              ? {
                  relation: 'rtd',
                  event: {
                    type: 'rtd.ente.withdraw',
                    payload: {
                      ente: event.payload.ente,
                      date: event.payload.date,
                      reason: 'Recesso',
                    },
                  },
                }
              : { skip: true },
        },
      ],
    },
    'convention.expire': {
      guard: 'expiryDue',
      target: '.EXPIRED',
      actions: assign(({ context, event }) => ({
        closedReason: `Scaduta il ${context.expiresOn} senza rinnovo espresso`,
        tasks: [
          ...context.tasks,
          ...context.entes
            .filter((e) => isActive(e) && e.kind === 'COMUNE')
            .map((e) => ({
              ente: e.codiceIpa,
              text: NON_ADERENTE_TASK(e.denominazione),
              raisedAt: event.at,
            })),
        ],
      })),
    },
  },
  states: {
    DRAFT: {
      description: 'si redige il testo dello schema di convenzione',
      tags: ['awaiting-text'],
      on: {
        'convention.abandon': { target: 'ABANDONED', actions: 'abandon' },
        'convention.freeze': {
          target: 'FROZEN',
          actions: assign(({ context, event }) => {
            const version = newVersion(context, event.payload.text, event.at, event.actor);
            return { text: version, textVersions: [...context.textVersions, version] };
          }),
        },
      },
    },
    FROZEN: {
      description:
        'una versione del testo è congelata (SHA-256): il presidente registra la consegna via PEC ai consigli',
      tags: ['awaiting-sending'],
      on: {
        'convention.send': {
          guard: 'rule',
          target: 'IN_DELIBERATION',
          actions: [
            assign(({ context, event }) => {
              const deadline = deadlineFrom(
                context.policy,
                romeDateOf(event.payload.deliveredAt),
                context.policy.councilDeadlineDays,
                event.at,
                0,
              );
              return {
                sentAt: event.payload.deliveredAt,
                entes: context.entes.map((e) => (isOpen(e) ? { ...e, deadline } : e)),
              };
            }),
            {
              type: 'notify',
              params: ({ context }): NotifyParams => ({
                template: 'convention.sent',
                to: context.entes.filter(isOpen).flatMap((e) => councilOf(e.codiceIpa)),
                data: {
                  title: context.title,
                  textVersion: context.text?.version,
                  textHash: context.text?.sha256,
                  deadline: context.entes.find(isOpen)?.deadline?.date,
                },
              }),
            },
          ],
        },
        'convention.abandon': ABANDON,
      },
    },
    IN_DELIBERATION: {
      description: 'ogni consiglio delibera sulla versione congelata entro il proprio termine',
      tags: ['awaiting-councils'],
      initial: 'OPEN',
      on: {
        'convention.council.convene': { guard: 'rule', actions: 'convene' },
        'convention.deliberation.record': {
          guard: 'rule',
          actions: [
            'recordDeliberation',
            {
              type: 'notify',
              params: ({ context, event }): NotifyParams =>
                event.type === 'convention.deliberation.record'
                  ? {
                      template: 'convention.deliberation-recorded',
                      to: unioneOffice(context),
                      data: {
                        title: context.title,
                        ente: nameOf(context, event.payload.ente),
                        outcome: event.payload.outcome,
                        number: event.payload.number,
                        date: event.payload.date,
                      },
                    }
                  : { template: 'none', to: [] },
            },
          ],
        },
        'convention.executivity.certify': { guard: 'rule', actions: 'certifyExecutivity' },
        'convention.reminder': {
          guard: 'timerStillDue',
          actions: [
            'countReminder',
            { type: 'notify', params: ({ context, event }) => reminderNotice(context, event) },
          ],
        },
        'convention.deadline.expire': {
          guard: 'timerStillDue',
          actions: [
            'expire',
            { type: 'notify', params: ({ context, event }) => expiryNotice(context, event) },
          ],
        },
        // each council's term from its own PEC receipt (or a delivery recorded by hand)
        'convention.delivery.receipt': { guard: 'rule', actions: 'recordDelivery' },
        'convention.delivery.record': { guard: 'rule', actions: 'recordDelivery' },
        'convention.deadline.extend': {
          guard: 'rule',
          actions: [
            'extendDeadline',
            {
              type: 'notify',
              params: ({ context, event }): NotifyParams => {
                if (event.type !== 'convention.deadline.extend')
                  return { template: 'none', to: [] };
                const extended = context.entes.filter(
                  (e) =>
                    isOpen(e) &&
                    (event.payload.ente === undefined || e.codiceIpa === event.payload.ente),
                );
                return {
                  template: 'convention.deadline-extended',
                  to: extended.flatMap((e) => councilOf(e.codiceIpa)),
                  data: {
                    title: context.title,
                    deadline: extended[0]?.deadline?.date,
                    reason: event.payload.reason,
                  },
                };
              },
            },
          ],
        },
        'convention.abandon': ABANDON,
      },
      states: {
        OPEN: {
          description:
            'i consigli deliberano; nessun termine è scaduto senza risposta (o la policy non sospende)',
          always: [...ROUND_OUTCOMES, { guard: 'overdueStall', target: 'STALLED' }],
        },
        STALLED: {
          description:
            'il termine di un consiglio è scaduto con la policy STALL: l’Unione proroga, attende o archivia',
          tags: ['stalled'],
          // a council past its term under STALL: the Unione extends the term, waits for a late
          // deliberation, or abandons (DOMAIN.md §2.3, §2.6: nobody can force a council to join)
          always: [...ROUND_OUTCOMES, { guard: 'noneOverdue', target: 'OPEN' }],
        },
      },
    },
    AMENDMENT_PENDING: {
      description:
        'un consiglio ha approvato con emendamenti: il gruppo di lavoro li accoglie (nuova versione) o li respinge',
      tags: ['awaiting-working-group'],
      // a council approved with amendments: the working group accepts (new version, every council
      // re-approves it) or refuses (that council is asked to deliberate again on the current text)
      on: {
        'convention.amendment.accept': {
          guard: 'rule',
          target: 'FROZEN',
          actions: [
            'acceptAmendment',
            {
              type: 'notify',
              params: ({ context }): NotifyParams => ({
                template: 'convention.amended',
                to: [...unioneOffice(context), ...segretari(context)],
                data: {
                  title: context.title,
                  textVersion: context.text?.version,
                  textHash: context.text?.sha256,
                },
              }),
            },
          ],
        },
        'convention.amendment.refuse': {
          target: 'IN_DELIBERATION',
          actions: [
            'refuseAmendment',
            {
              type: 'notify',
              params: ({ context, event }): NotifyParams => ({
                template: 'convention.amendment-refused',
                to: segretari(context),
                data: {
                  title: context.title,
                  reason: event.type === 'convention.amendment.refuse' ? event.payload.reason : '',
                },
              }),
            },
          ],
        },
        'convention.deliberation.record': {
          guard: 'rule',
          actions: 'recordDeliberation',
        },
        'convention.executivity.certify': { guard: 'rule', actions: 'certifyExecutivity' },
        'convention.abandon': ABANDON,
      },
    },
    APPROVED_ALL: {
      description:
        'la regola di approvazione è soddisfatta: si attende che ogni delibera diventi esecutiva',
      tags: ['awaiting-executivity'],
      always: [{ guard: 'allExecutive', target: 'READY_TO_SIGN' }],
      on: {
        'convention.executivity.certify': { guard: 'rule', actions: 'certifyExecutivity' },
        'convention.abandon': ABANDON,
      },
    },
    READY_TO_SIGN: {
      description:
        'ogni delibera dei partecipanti è esecutiva: i sindaci e il presidente firmano digitalmente',
      tags: ['awaiting-signatures'],
      always: [{ guard: 'allSigned', target: 'SIGNED' }],
      on: {
        'convention.sign': { guard: 'rule', actions: 'sign' },
        'convention.abandon': ABANDON,
      },
    },
    SIGNED: {
      description: 'stipulata con l’ultima firma: si attende la decorrenza',
      tags: ['awaiting-decorrenza'],
      // stipulata at the last signature; takes effect per the decorrenza policy
      entry: [
        assign(({ context }) => {
          // compare instants, not strings: signatures may carry different UTC offsets
          const last = new Date(
            Math.max(
              ...context.entes
                .filter(isActive)
                .map((e) => (e.signature ? Date.parse(e.signature.signedAt) : 0)),
            ),
          ).toISOString();
          const stipulatedOn = toRomeDate(new Date(last));
          let decorrenzaDate: IsoDate = stipulatedOn;
          if (!context.amending && context.policy.decorrenza === 'FIRST_DAY_OF_NEXT_MONTH') {
            const [y, m] = stipulatedOn.split('-').map(Number) as [number, number];
            decorrenzaDate =
              m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
          } else if (
            !context.amending &&
            context.policy.decorrenza === 'FIXED_DATE' &&
            context.policy.decorrenzaDate
          ) {
            decorrenzaDate =
              context.policy.decorrenzaDate > stipulatedOn
                ? context.policy.decorrenzaDate
                : stipulatedOn;
          }
          return { stipulatedAt: last, decorrenzaDate };
        }),
        {
          type: 'notify',
          params: ({ context }): NotifyParams => ({
            template: 'convention.signed',
            to: context.entes.filter(isActive).flatMap((e) => [
              { ente: e.codiceIpa, role: 'segretario' as const },
              { ente: e.codiceIpa, role: 'sindaco' as const },
            ]),
            data: {
              title: context.title,
              textHash: context.text?.sha256,
              decorrenza: context.decorrenzaDate,
            },
          }),
        },
      ],
      always: [{ guard: 'decorrenzaReached', target: 'IN_FORCE' }],
      on: {
        'convention.decorrenza.reach': { guard: 'decorrenzaDue', target: 'IN_FORCE' },
      },
    },
    IN_FORCE: {
      description:
        'in vigore: adesioni successive, modifiche, recesso, rinnovo, scioglimento, scadenza',
      tags: ['in-force'],
      entry: [
        {
          // the first time in force: Iter opens the associated RTD appointment by itself (DOMAIN.md §3.1)
          type: 'startProcess',
          params: ({ context }): StartProcessParams =>
            context.inForceFrom === null
              ? { definition: 'rtd', relation: 'rtd', sourceField: 'convention', input: {} }
              : { skip: true },
        },
        assign(({ context }) => ({
          inForceFrom: context.amending ? context.inForceFrom : context.decorrenzaDate,
          inForceVersion: context.text?.version ?? null,
          expiresOn:
            context.expiresOn ??
            (context.decorrenzaDate
              ? termEnd(context.decorrenzaDate, context.policy.durationYears)
              : null),
          amending: false,
          beforeAmendment: null,
        })),
        {
          type: 'notify',
          params: ({ context }): NotifyParams => ({
            template: 'convention.in-force',
            to: segretari(context),
            data: {
              title: context.title,
              from: context.inForceFrom,
              textVersion: context.inForceVersion,
              expiresOn: context.expiresOn,
            },
          }),
        },
      ],
      always: [
        {
          guard: 'tooFewLeft',
          target: 'TERMINATED',
          actions: assign({ closedReason: 'Partecipanti sotto il minimo dopo i recessi' }),
        },
        {
          guard: 'allDissolved',
          target: 'TERMINATED',
          actions: assign({ closedReason: 'Scioglimento deliberato da tutti gli enti' }),
        },
        { guard: 'allRenewed', actions: 'renew' },
      ],
      on: {
        // amendment of the convention in force: the same loop (freeze, deliberations, signatures)
        'convention.amendment.open': {
          guard: 'rule',
          target: 'FROZEN',
          actions: ['openAmendment', 'acceptAmendment'],
        },
        // late adhesion (adesione successiva) of a comune of the Unione
        'convention.adhesion.open': {
          guard: 'rule',
          actions: [
            'openAdhesion',
            {
              type: 'notify',
              params: ({ context, event }): NotifyParams =>
                event.type === 'convention.adhesion.open'
                  ? {
                      template: 'convention.adhesion-invited',
                      to: councilOf(event.payload.ente),
                      data: {
                        title: context.title,
                        textHash: context.text?.sha256,
                        textVersion: context.text?.version,
                      },
                    }
                  : { template: 'none', to: [] },
            },
          ],
        },
        'convention.deliberation.record': {
          guard: 'rule',
          actions: 'recordDeliberation',
        },
        'convention.executivity.certify': {
          guard: 'rule',
          actions: 'certifyExecutivity',
        },
        'convention.adhesion.accept': { guard: 'rule', actions: 'admit' },
        'convention.sign': {
          guard: 'rule',
          actions: [
            'sign',
            {
              type: 'notify',
              params: ({ context, event }): NotifyParams => ({
                template: 'convention.adhesion-completed',
                to: [...unioneOffice(context), ...segretari(context)],
                data: {
                  title: context.title,
                  ente: event.type === 'convention.sign' ? nameOf(context, event.payload.ente) : '',
                },
              }),
            },
            {
              // the joining comune is served by the associated RTD from now on (its IPA task included)
              type: 'signal',
              params: ({ event }): SignalParams =>
                event.type === 'convention.sign'
                  ? {
                      relation: 'rtd',
                      event: {
                        type: 'rtd.ente.add',
                        payload: { ente: event.payload.ente, date: today(event.at) },
                      },
                    }
                  : { skip: true },
            },
          ],
        },
        'convention.reminder': {
          guard: 'timerStillDue',
          actions: [
            'countReminder',
            { type: 'notify', params: ({ context, event }) => reminderNotice(context, event) },
          ],
        },
        'convention.deadline.expire': {
          guard: 'timerStillDue',
          actions: [
            'expire',
            { type: 'notify', params: ({ context, event }) => expiryNotice(context, event) },
          ],
        },
        'convention.recesso.record': {
          guard: 'rule',
          actions: [
            'recordRecesso',
            {
              type: 'notify',
              params: ({ context, event }): NotifyParams => ({
                template: 'convention.recesso-recorded',
                to: unioneOffice(context),
                data:
                  event.type === 'convention.recesso.record'
                    ? {
                        title: context.title,
                        ente: nameOf(context, event.payload.ente),
                        effectiveDate: event.payload.effectiveDate,
                      }
                    : {},
              }),
            },
          ],
        },
        'convention.renewal.record': { guard: 'rule', actions: 'recordAct' },
        'convention.dissolution.record': { guard: 'rule', actions: 'recordAct' },
      },
    },
    FAILED: {
      description:
        'non approvata: un consiglio ha respinto con UNANIMITY, o il quorum non può più essere raggiunto',
      tags: ['final', 'failed'],
      type: 'final',
      entry: [
        assign({
          closedReason: ({ context }) => {
            const out = context.entes.filter(
              (e) => e.status === 'REJECTED' || e.status === 'NON_ADERENTE',
            );
            const rule =
              context.policy.approval === 'UNANIMITY'
                ? 'unanimità richiesta'
                : `quorum non raggiunto (minimo ${context.policy.quorumMinEntes ?? 'tutti i'} comuni)`;
            return `Non approvata: ${out.map((e) => `${e.denominazione} (${e.status})`).join(', ') || 'nessuna approvazione sufficiente'} — ${rule}`;
          },
        }),
        {
          type: 'notify',
          params: ({ context }): NotifyParams => ({
            template: 'convention.failed',
            to: [
              ...unioneOffice(context),
              ...context.entes.map((e) => ({ ente: e.codiceIpa, role: 'segretario' as const })),
            ],
            data: { title: context.title, reason: context.closedReason },
          }),
        },
      ],
    },
    ABANDONED: {
      description: 'archiviata dal presidente',
      tags: ['final', 'terminated'],
      type: 'final',
      entry: {
        type: 'notify',
        params: ({ context }): NotifyParams => ({
          template: 'convention.abandoned',
          to: context.entes.map((e) => ({ ente: e.codiceIpa, role: 'segretario' as const })),
          data: { title: context.title, reason: context.closedReason },
        }),
      },
    },
    EXPIRED: {
      description: 'la durata è terminata senza rinnovo espresso',
      tags: ['final', 'terminated'],
      type: 'final',
      entry: [
        {
          type: 'notify',
          params: ({ context }): NotifyParams => ({
            template: 'convention.expired',
            to: [...unioneOffice(context), ...segretari(context)],
            data: { title: context.title, expiresOn: context.expiresOn },
          }),
        },
        {
          // the associated RTD's appointment ends with the convention
          type: 'signal',
          params: ({ context }): SignalParams =>
            context.expiresOn
              ? {
                  relation: 'rtd',
                  event: {
                    type: 'rtd.convention.end',
                    payload: {
                      date: addCalendarDays(context.expiresOn, 1),
                      reason: context.closedReason ?? 'Convenzione scaduta',
                    },
                  },
                }
              : { skip: true },
        },
      ],
    },
    TERMINATED: {
      description:
        'cessata: sciolta da tutti gli enti, o troppo pochi comuni rimasti dopo i recessi',
      tags: ['final', 'terminated'],
      type: 'final',
      entry: [
        {
          type: 'notify',
          params: ({ context }): NotifyParams => ({
            template: 'convention.terminated',
            to: [
              ...unioneOffice(context),
              ...context.entes.map((e) => ({ ente: e.codiceIpa, role: 'segretario' as const })),
            ],
            data: { title: context.title, reason: context.closedReason },
          }),
        },
        {
          // dissolution or too few left: the associated RTD's appointment ends today
          type: 'signal',
          params: ({ context, event }): SignalParams => {
            const at = (event as { at?: string }).at;
            return at && context.inForceFrom !== null
              ? {
                  relation: 'rtd',
                  event: {
                    type: 'rtd.convention.end',
                    payload: {
                      date: today(at),
                      reason: context.closedReason ?? 'Convenzione terminata',
                    },
                  },
                }
              : { skip: true };
          },
        },
      ],
    },
  },
});
