import { assign, setup } from 'xstate';
import {
  addDaysTerm,
  endOfDayRome,
  executivityDate,
  publicationEnd,
  toRomeDate,
  type IsoDate,
} from '@app/calendar';
import { sha256Hex } from '@app/common';
import type { NotifyParams } from '../effects';
import type { Recipient } from '../definition';
import {
  checkDeliberation,
  checkExecutivity,
  checkExtend,
  checkSend,
  checkSign,
} from './convention.rules';
import type {
  ConventionContext,
  ConventionEvent,
  ConventionInput,
  Deadline,
  EnteProgress,
} from './convention.types';

/**
 * The convention approval (art. 30 TUEL), version 1: DOMAIN.md §2.3 at the convention level, with the
 * per-ente progress of §2.4 kept in context (one row per ente, the Unione first).
 *
 * Pure: no clock (time arrives as `event.at`), no I/O. Effects are `notify` actions with data params,
 * turned into outbox rows by the engine. Timers are declared by `conventionTimers` (convention.definition.ts)
 * from the state, not by delayed events: XState does not restore delayed events from a snapshot.
 */
type Ctx = ConventionContext;

const deadlineFrom = (fromDate: IsoDate, days: number, at: string, extensions: number): Deadline => {
  const date = addDaysTerm(fromDate, days);
  return { date, dueAt: endOfDayRome(date).toISOString(), setAt: at, extensions, overdue: false };
};

const mapEnte = (ctx: Ctx, ente: string, f: (e: EnteProgress) => EnteProgress): EnteProgress[] =>
  ctx.entes.map((e) => (e.codiceIpa === ente ? f(e) : e));

const unioneOffice = (ctx: Ctx): Recipient[] => [
  { ente: ctx.unione, role: 'presidente' },
  { ente: ctx.unione, role: 'staff' },
];

const everyParticipant = (ctx: Ctx, pred: (e: EnteProgress) => boolean): boolean =>
  ctx.entes.length > 0 && ctx.entes.every(pred);


const NOTIFY_SEGRETARI = (ctx: Ctx): Recipient[] =>
  ctx.entes.map((e) => ({ ente: e.codiceIpa, role: 'segretario' as const }));


export const conventionMachine = setup({
  types: {
    context: {} as Ctx,
    events: {} as ConventionEvent,
    input: {} as ConventionInput,
  },
  actions: {
    // executed by the engine (outbox), never here
    notify: (_: unknown, _params: NotifyParams) => {},
    recordDeliberation: assign(({ context, event }) => {
      if (event.type !== 'convention.deliberation.record') return {};
      const p = event.payload;
      const organ = p.ente === context.unione ? 'CU' : 'CC';
      const deliberation = {
        organ,
        number: p.number,
        date: p.date,
        outcome: p.outcome,
        textHash: p.textHash ?? null,
        votes: p.votes ?? null,
        immediatamenteEseguibile: p.immediatamenteEseguibile ?? false,
        ieVotes: p.ieVotes ?? null,
        recordedAt: event.at,
        recordedBy: event.actor,
      } as const;
      return {
        entes: mapEnte(context, p.ente, (e): EnteProgress => {
          switch (p.outcome) {
            case 'APPROVED':
              return deliberation.immediatamenteEseguibile
                ? {
                    ...e,
                    status: 'EXECUTIVE',
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
                : { ...e, status: 'APPROVED', deliberation };
            case 'REJECTED':
              return { ...e, status: 'REJECTED', deliberation };
            case 'RINVIATA':
            case 'SEDUTA_DESERTA':
              // no decision: the council will be convened again
              return { ...e, sessions: [...e.sessions, deliberation] };
          }
        }),
      };
    }),
    certifyExecutivity: assign(({ context, event }) => {
      if (event.type !== 'convention.executivity.certify') return {};
      const p = event.payload;
      return {
        entes: mapEnte(context, p.ente, (e) => ({
          ...e,
          status: 'EXECUTIVE',
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
    abandon: assign(({ event }) => ({
      closedReason: event.type === 'convention.abandon' ? event.payload.reason : null,
    })),
    countReminder: assign(({ context, event }) => {
      if (event.type !== 'convention.reminder') return {};
      return { entes: mapEnte(context, event.payload.ente, (e) => ({ ...e, remindersSent: e.remindersSent + 1 })) };
    }),
    markOverdue: assign(({ context, event }) => {
      if (event.type !== 'convention.deadline.expire') return {};
      return {
        entes: mapEnte(context, event.payload.ente, (e) =>
          e.deadline ? { ...e, deadline: { ...e.deadline, overdue: true } } : e,
        ),
      };
    }),
    extendDeadline: assign(({ context, event }) => {
      if (event.type !== 'convention.deadline.extend') return {};
      const p = event.payload;
      return {
        entes: context.entes.map((e) =>
          e.status === 'INVITED' && e.deadline && (p.ente === undefined || p.ente === e.codiceIpa)
            ? { ...e, deadline: deadlineFrom(e.deadline.date, p.days, event.at, e.deadline.extensions + 1) }
            : e,
        ),
      };
    }),
  },
  guards: {
    sendOk: ({ context, event }) => event.type === 'convention.send' && checkSend(context, event) === null,
    deliberationOk: ({ context, event }) =>
      event.type === 'convention.deliberation.record' && checkDeliberation(context, event) === null,
    executivityOk: ({ context, event }) =>
      event.type === 'convention.executivity.certify' && checkExecutivity(context, event) === null,
    signOk: ({ context, event }) => event.type === 'convention.sign' && checkSign(context, event) === null,
    extendOk: ({ context, event }) =>
      event.type === 'convention.deadline.extend' && checkExtend(context, event) === null,
    anyRejected: ({ context }) => context.entes.some((e) => e.status === 'REJECTED'),
    allApproved: ({ context }) =>
      everyParticipant(context, (e) => e.status === 'APPROVED' || e.status === 'EXECUTIVE'),
    allExecutive: ({ context }) => everyParticipant(context, (e) => e.status === 'EXECUTIVE'),
    allSigned: ({ context }) => everyParticipant(context, (e) => e.status === 'SIGNED'),
    overdueUnderUnanimity: ({ context }) =>
      context.policy.approval === 'UNANIMITY' &&
      context.entes.some((e) => e.status === 'INVITED' && e.deadline?.overdue === true),
    noneOverdue: ({ context }) =>
      !context.entes.some((e) => e.status === 'INVITED' && e.deadline?.overdue === true),
    decorrenzaReached: ({ context }) =>
      context.decorrenzaDate !== null &&
      context.stipulatedAt !== null &&
      context.decorrenzaDate <= toRomeDate(new Date(context.stipulatedAt)),
    /** a timer event is acted on only if its ente still waits for a deliberation under that deadline */
    timerStillDue: ({ context, event }) => {
      if (event.type === 'convention.deadline.expire' || event.type === 'convention.reminder') {
        const e = context.entes.find((x) => x.codiceIpa === event.payload.ente);
        return e?.status === 'INVITED' && e.deadline !== null && !e.deadline.overdue;
      }
      return false;
    },
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
    entes: [input.unione, ...input.members].map(
      (f): EnteProgress => ({
        ...f,
        status: 'INVITED',
        deadline: null,
        sessions: [],
        deliberation: null,
        executivity: null,
        signature: null,
        remindersSent: 0,
      }),
    ),
    stipulatedAt: null,
    decorrenzaDate: null,
    inForceFrom: null,
    closedReason: null,
  }),
  initial: 'DRAFT',
  states: {
    DRAFT: {
      on: {
        'convention.freeze': {
          target: 'FROZEN',
          actions: assign(({ context, event }) => {
            const version = {
              version: context.textVersions.length + 1,
              sha256: sha256Hex(event.payload.text),
              length: event.payload.text.length,
              frozenAt: event.at,
              frozenBy: event.actor,
            };
            return { text: version, textVersions: [...context.textVersions, version] };
          }),
        },
        'convention.abandon': { target: 'ABANDONED', actions: 'abandon' },
      },
    },
    FROZEN: {
      on: {
        'convention.send': {
          guard: 'sendOk',
          target: 'IN_DELIBERATION',
          actions: [
            assign(({ context, event }) => {
              const from = toRomeDate(new Date(event.payload.deliveredAt));
              const deadline = deadlineFrom(from, context.policy.councilDeadlineDays, event.at, 0);
              return {
                sentAt: event.payload.deliveredAt,
                entes: context.entes.map((e) => ({ ...e, deadline })),
              };
            }),
            {
              type: 'notify',
              params: ({ context }): NotifyParams => ({
                template: 'convention.sent',
                to: context.entes.flatMap((e) => [
                  { ente: e.codiceIpa, role: 'consiglio' as const },
                  { ente: e.codiceIpa, role: 'segretario' as const },
                ]),
                data: {
                  title: context.title,
                  textVersion: context.text?.version,
                  textHash: context.text?.sha256,
                  deadline: context.entes[0]?.deadline?.date,
                },
              }),
            },
          ],
        },
        'convention.abandon': { target: 'ABANDONED', actions: 'abandon' },
      },
    },
    IN_DELIBERATION: {
      initial: 'OPEN',
      on: {
        'convention.deliberation.record': {
          guard: 'deliberationOk',
          actions: [
            'recordDeliberation',
            {
              type: 'notify',
              params: ({ context, event }): NotifyParams => ({
                template: 'convention.deliberation-recorded',
                to: unioneOffice(context),
                data:
                  event.type === 'convention.deliberation.record'
                    ? {
                        title: context.title,
                        ente: findName(context, event.payload.ente),
                        outcome: event.payload.outcome,
                        number: event.payload.number,
                        date: event.payload.date,
                      }
                    : {},
              }),
            },
          ],
        },
        'convention.executivity.certify': { guard: 'executivityOk', actions: 'certifyExecutivity' },
        'convention.reminder': {
          guard: 'timerStillDue',
          actions: [
            'countReminder',
            {
              type: 'notify',
              params: ({ context, event }): NotifyParams => {
                if (event.type !== 'convention.reminder') return { template: 'none', to: [] };
                const e = context.entes.find((x) => x.codiceIpa === event.payload.ente);
                return {
                  template: 'convention.reminder',
                  to: [
                    { ente: event.payload.ente, role: 'consiglio' },
                    { ente: event.payload.ente, role: 'segretario' },
                  ],
                  data: { title: context.title, deadline: e?.deadline?.date, daysBefore: event.payload.daysBefore },
                };
              },
            },
          ],
        },
        'convention.deadline.expire': {
          guard: 'timerStillDue',
          actions: [
            'markOverdue',
            {
              type: 'notify',
              params: ({ context, event }): NotifyParams => {
                if (event.type !== 'convention.deadline.expire') return { template: 'none', to: [] };
                return {
                  template: 'convention.deadline-expired',
                  to: [...unioneOffice(context), { ente: event.payload.ente, role: 'segretario' }],
                  data: { title: context.title, ente: findName(context, event.payload.ente) },
                };
              },
            },
          ],
        },
        'convention.deadline.extend': {
          guard: 'extendOk',
          actions: [
            'extendDeadline',
            {
              type: 'notify',
              params: ({ context, event }): NotifyParams => {
                if (event.type !== 'convention.deadline.extend') return { template: 'none', to: [] };
                const extended = context.entes.filter(
                  (e) => e.status === 'INVITED' && (event.payload.ente === undefined || e.codiceIpa === event.payload.ente),
                );
                return {
                  template: 'convention.deadline-extended',
                  to: extended.flatMap((e) => [
                    { ente: e.codiceIpa, role: 'consiglio' as const },
                    { ente: e.codiceIpa, role: 'segretario' as const },
                  ]),
                  data: { title: context.title, deadline: extended[0]?.deadline?.date, reason: event.payload.reason },
                };
              },
            },
          ],
        },
        'convention.abandon': { target: 'ABANDONED', actions: 'abandon' },
      },
      states: {
        OPEN: {
          always: [
            { guard: 'anyRejected', target: '#convention.FAILED' },
            { guard: 'allApproved', target: '#convention.APPROVED_ALL' },
            { guard: 'overdueUnderUnanimity', target: 'STALLED' },
          ],
        },
        STALLED: {
          // UNANIMITY and a council past its term: the Unione extends the term, waits for a late
          // deliberation, or abandons (DOMAIN.md §2.3, §2.6: nobody can force a council to join)
          always: [
            { guard: 'anyRejected', target: '#convention.FAILED' },
            { guard: 'allApproved', target: '#convention.APPROVED_ALL' },
            { guard: 'noneOverdue', target: 'OPEN' },
          ],
        },
      },
    },
    APPROVED_ALL: {
      always: [{ guard: 'allExecutive', target: 'READY_TO_SIGN' }],
      on: {
        'convention.executivity.certify': { guard: 'executivityOk', actions: 'certifyExecutivity' },
        'convention.abandon': { target: 'ABANDONED', actions: 'abandon' },
      },
    },
    READY_TO_SIGN: {
      always: [{ guard: 'allSigned', target: 'SIGNED' }],
      on: {
        'convention.sign': {
          guard: 'signOk',
          actions: assign(({ context, event }) => {
            if (event.type !== 'convention.sign') return {};
            return {
              entes: mapEnte(context, event.payload.ente, (e) => ({
                ...e,
                status: 'SIGNED',
                signature: {
                  signer: event.actor.subject,
                  signerRole: event.actor.role,
                  signedAt: event.payload.signedAt,
                  signatureType: event.payload.signatureType,
                },
              })),
            };
          }),
        },
        'convention.abandon': { target: 'ABANDONED', actions: 'abandon' },
      },
    },
    SIGNED: {
      // stipulata at the last signature; takes effect per the decorrenza policy
      entry: [
        assign(({ context }) => {
          // compare instants, not strings: signatures may carry different UTC offsets
          const last = new Date(
            Math.max(...context.entes.map((e) => (e.signature ? Date.parse(e.signature.signedAt) : 0))),
          ).toISOString();
          const stipulatedOn = toRomeDate(new Date(last));
          let decorrenzaDate: IsoDate = stipulatedOn;
          if (context.policy.decorrenza === 'FIRST_DAY_OF_NEXT_MONTH') {
            const [y, m] = stipulatedOn.split('-').map(Number) as [number, number];
            decorrenzaDate = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
          } else if (context.policy.decorrenza === 'FIXED_DATE' && context.policy.decorrenzaDate) {
            decorrenzaDate =
              context.policy.decorrenzaDate > stipulatedOn ? context.policy.decorrenzaDate : stipulatedOn;
          }
          return { stipulatedAt: last, decorrenzaDate };
        }),
        {
          type: 'notify',
          params: ({ context }): NotifyParams => ({
            template: 'convention.signed',
            to: context.entes.flatMap((e) => [
              { ente: e.codiceIpa, role: 'segretario' as const },
              { ente: e.codiceIpa, role: 'sindaco' as const },
            ]),
            data: { title: context.title, textHash: context.text?.sha256, decorrenza: context.decorrenzaDate },
          }),
        },
      ],
      always: [{ guard: 'decorrenzaReached', target: 'IN_FORCE' }],
      on: {
        'convention.decorrenza.reach': { target: 'IN_FORCE' },
      },
    },
    IN_FORCE: {
      entry: [
        assign({ inForceFrom: ({ context }) => context.decorrenzaDate }),
        {
          type: 'notify',
          params: ({ context }): NotifyParams => ({
            template: 'convention.in-force',
            to: NOTIFY_SEGRETARI(context),
            data: { title: context.title, from: context.decorrenzaDate },
          }),
        },
      ],
      // amendment, recesso, late adhesion, renewal, expiry: the next definition version adds them
    },
    FAILED: {
      type: 'final',
      entry: [
        assign({
          closedReason: ({ context }) =>
            `Respinta da ${context.entes
              .filter((e) => e.status === 'REJECTED')
              .map((e) => e.denominazione)
              .join(', ')} (unanimità richiesta)`,
        }),
        {
          type: 'notify',
          params: ({ context }): NotifyParams => ({
            template: 'convention.failed',
            to: [...unioneOffice(context), ...NOTIFY_SEGRETARI(context)],
            data: { title: context.title },
          }),
        },
      ],
    },
    ABANDONED: {
      type: 'final',
      entry: {
        type: 'notify',
        params: ({ context }): NotifyParams => ({
          template: 'convention.abandoned',
          to: NOTIFY_SEGRETARI(context),
          data: { title: context.title, reason: context.closedReason },
        }),
      },
    },
  },
});

function findName(ctx: Ctx, ente: string): string {
  return ctx.entes.find((e) => e.codiceIpa === ente)?.denominazione ?? ente;
}
