import type { AnyMachineSnapshot } from 'xstate';
import { addCalendarDays, atRomeTime } from '@app/calendar';
import {
  specRule,
  type ActRef,
  type EnteFacts,
  type EventRule,
  type EventSpec,
  type MachineEvent,
  type ProcessDefinition,
  type ProcessStatus,
  type TimerSpec,
} from '../definition';
import {
  AbandonDto,
  AdhesionAcceptDto,
  AdhesionOpenDto,
  AmendmentTextDto,
  CollectiveActDto,
  ConveneCouncilDto,
  ExpireDto,
  RecessoDto,
  RecessoEffectiveDto,
  CertifyExecutivityDto,
  DeadlineExpireDto,
  DecorrenzaDto,
  ExtendDeadlineDto,
  FreezeTextDto,
  RecordDeliberationDto,
  ReminderDto,
  SendToCouncilsDto,
  SignConventionDto,
  StartConventionDto,
} from './convention.events';
import { conventionMachine } from './convention.machine';
import {
  CONVENTION_RULES,
  isJoining,
  participatingEntes,
  PRE_VOTE,
  reminderAt,
  reminderNotAfter,
} from './convention.rules';
import type { ConventionContext, ConventionEvent, EnteProgress } from './convention.types';
import { DEFAULT_POLICY } from './convention.types';

const ctxOf = (s: AnyMachineSnapshot): ConventionContext => s.context as ConventionContext;

/** Top-level state name, with STALLED surfaced from IN_DELIBERATION.STALLED and APPROVED_PARTIAL when
 *  some comuni are out (QUORUM) */
export function conventionStateLabel(s: AnyMachineSnapshot): string {
  const v = s.value as string | Record<string, string>;
  if (
    v === 'APPROVED_ALL' &&
    ctxOf(s).entes.some((e) => e.status === 'REJECTED' || e.status === 'NON_ADERENTE')
  ) {
    return 'APPROVED_PARTIAL';
  }
  if (typeof v === 'string') return v;
  const [top, sub] = Object.entries(v)[0] as [string, string];
  return sub === 'STALLED' ? 'STALLED' : top;
}

/** Reminders at 09:00 Rome on T-n; the deadline at 23:59:59.999 Rome on T (DOMAIN.md §4, DESIGN "Timers"). */
function deadlineTimers(ctx: ConventionContext, e: EnteProgress): TimerSpec[] {
  const d = e.deadline;
  if (!PRE_VOTE.includes(e.status) || !d || d.overdue) return [];
  const out: TimerSpec[] = [
    {
      key: `deadline:${e.codiceIpa}`,
      kind: 'deadline',
      dueAt: d.dueAt,
      event: { type: 'convention.deadline.expire', payload: { ente: e.codiceIpa, dueAt: d.dueAt } },
    },
  ];
  for (const n of ctx.policy.reminderDaysBefore) {
    const dueAt = reminderAt(d, n);
    // a reminder whose moment passed before the term was set would only arrive late: skip it
    if (dueAt <= d.setAt) continue;
    out.push({
      key: `reminder:${e.codiceIpa}:${n}`,
      kind: 'reminder',
      dueAt,
      notAfter: reminderNotAfter(ctx.policy.reminderDaysBefore, d, n),
      event: { type: 'convention.reminder', payload: { ente: e.codiceIpa, daysBefore: n } },
    });
  }
  return out;
}

const FINAL = ['FAILED', 'ABANDONED', 'EXPIRED', 'TERMINATED'];

export function conventionTimers(s: AnyMachineSnapshot): TimerSpec[] {
  const ctx = ctxOf(s);
  const label = conventionStateLabel(s);
  const out: TimerSpec[] = [];
  if (label === 'IN_DELIBERATION' || label === 'STALLED') {
    for (const e of ctx.entes) out.push(...deadlineTimers(ctx, e));
  }
  if (label === 'SIGNED' && ctx.decorrenzaDate) {
    out.push({
      key: 'decorrenza',
      kind: 'deadline',
      dueAt: atRomeTime(ctx.decorrenzaDate, 0).toISOString(),
      event: { type: 'convention.decorrenza.reach', payload: { date: ctx.decorrenzaDate } },
    });
  }
  if (label === 'IN_FORCE') {
    for (const e of ctx.entes) if (e.joining) out.push(...deadlineTimers(ctx, e));
  }
  // a convention in force keeps its recesso and expiry timers while an amendment of it runs
  if (ctx.inForceFrom !== null && !FINAL.includes(label)) {
    for (const e of ctx.entes) {
      if (e.recesso && e.status !== 'RECEDUTO') {
        out.push({
          key: `recesso:${e.codiceIpa}`,
          kind: 'deadline',
          dueAt: atRomeTime(e.recesso.effectiveDate, 0).toISOString(),
          event: {
            type: 'convention.recesso.effective',
            payload: { ente: e.codiceIpa, date: e.recesso.effectiveDate },
          },
        });
      }
    }
    if (ctx.expiresOn) {
      // the day after the last day of the term, at 00:00 Rome
      const end = addCalendarDays(ctx.expiresOn, 1);
      out.push({
        key: `expiry:${ctx.expiresOn}`,
        kind: 'deadline',
        dueAt: atRomeTime(end, 0).toISOString(),
        event: { type: 'convention.expire', payload: { date: end } },
      });
    }
  }
  return out;
}

/** from the states' tags (convention.machine.ts): in force and alive, failed, ended, or a procedure under way */
function conventionStatus(s: AnyMachineSnapshot): ProcessStatus {
  if (s.hasTag('in-force')) return 'in_force';
  if (s.hasTag('failed')) return 'failed';
  if (s.hasTag('terminated')) return 'terminated';
  return 'active';
}

/** entes with a step of their own to take now */
function pendingEntes(s: AnyMachineSnapshot): string[] {
  const ctx = ctxOf(s);
  switch (conventionStateLabel(s)) {
    case 'IN_DELIBERATION':
    case 'STALLED':
    case 'AMENDMENT_PENDING':
    case 'APPROVED_ALL':
    case 'APPROVED_PARTIAL':
      return ctx.entes
        .filter((e) => PRE_VOTE.includes(e.status) || e.status === 'APPROVED')
        .map((e) => e.codiceIpa);
    case 'READY_TO_SIGN':
      return ctx.entes.filter((e) => e.status === 'EXECUTIVE').map((e) => e.codiceIpa);
    case 'IN_FORCE':
      return ctx.entes
        .filter(
          (e) =>
            e.joining &&
            (PRE_VOTE.includes(e.status) ||
              ['APPROVED', 'EXECUTIVE', 'ADMITTED'].includes(e.status)),
        )
        .map((e) => e.codiceIpa);
    default:
      return [];
  }
}

function nextDeadline(s: AnyMachineSnapshot): string | null {
  const label = conventionStateLabel(s);
  const inForce = label === 'IN_FORCE';
  if (label !== 'IN_DELIBERATION' && label !== 'STALLED' && !inForce) return null;
  const open = ctxOf(s)
    .entes.filter(
      (e) =>
        PRE_VOTE.includes(e.status) && e.deadline && !e.deadline.overdue && (!inForce || e.joining),
    )
    .map((e) => e.deadline!.dueAt)
    .sort();
  return open[0] ?? null;
}

/** a council deliberation: consiglio comunale, or consiglio dell'unione for the Unione itself */
const councilAct = (s: AnyMachineSnapshot, ev: MachineEvent): ActRef => {
  const p = ev.payload as { ente: string; number: string; date: string };
  return {
    ente: p.ente,
    organ: p.ente === ctxOf(s).unione ? 'CU' : 'CC',
    number: p.number,
    date: p.date,
  };
};

/** the EventSpec of each event with its rule from CONVENTION_RULES (`rule` and `precondition`) */
function withRules(events: Record<string, Omit<EventSpec, 'rule' | 'precondition'>>) {
  return Object.fromEntries(
    Object.entries(events).map(([type, spec]) => [
      type,
      {
        ...spec,
        ...specRule(
          CONVENTION_RULES[type as ConventionEvent['type']] as
            EventRule<ConventionContext> | undefined,
          ctxOf,
        ),
      },
    ]),
  ) as Record<string, EventSpec>;
}

export const conventionDefinitionV1: ProcessDefinition<StartConventionDto> = {
  key: 'convenzione',
  version: 1,
  title: 'Approvazione della convenzione (art. 30 TUEL)',
  description:
    'Testo congelato con hash, invio ai consigli, esito di ogni deliberazione, esecutività, firma digitale, entrata in vigore.',
  machine: conventionMachine,
  input: StartConventionDto,
  startRoles: ['presidente', 'staff'],
  inputEntes: (input) => ({ unione: input.unione, members: input.members }),
  participants: (s) => ctxOf(s).entes.map((e) => e.codiceIpa),
  machineInput: (input, entes: ReadonlyMap<string, EnteFacts>) => ({
    title: input.title,
    unione: entes.get(input.unione),
    members: input.members.map((m) => entes.get(m)),
    policy: {
      ...DEFAULT_POLICY,
      // QUORUM conventions default to "extend once, then NON_ADERENTE"; UNANIMITY ones stall (DOMAIN.md §2.5)
      nonDeliberating:
        input.policy?.approval === 'QUORUM'
          ? 'EXTEND_ONCE_THEN_NON_ADERENTE'
          : DEFAULT_POLICY.nonDeliberating,
      ...(input.policy ?? {}),
    },
  }),
  titleOf: (s) => ctxOf(s).title,
  // each event written once: metadata here, its rule in CONVENTION_RULES (also the machine's guard)
  events: withRules({
    'convention.freeze': {
      description: 'Congela il testo dello schema (SHA-256) approvato dalla Giunta dell’Unione',
      roles: ['presidente', 'staff'],
      scope: 'unione',
      payload: FreezeTextDto,
    },
    'convention.send': {
      description:
        'Registra l’invio PEC dello schema ai consigli (data della ricevuta di consegna)',
      roles: ['presidente'],
      scope: 'unione',
      payload: SendToCouncilsDto,
    },
    'convention.council.convene': {
      description: 'Registra la convocazione del consiglio (preavviso minimo da regolamento)',
      roles: ['segretario'],
      scope: 'ente',
      payload: ConveneCouncilDto,
    },
    'convention.deliberation.record': {
      description:
        'Registra l’esito della deliberazione consiliare del proprio ente, con i pareri (art. 49 TUEL)',
      roles: ['segretario'],
      scope: 'ente',
      payload: RecordDeliberationDto,
      registersAct: councilAct,
    },
    'convention.executivity.certify': {
      description:
        'Certifica pubblicazione all’albo ed esecutività della deliberazione (art. 134 TUEL)',
      roles: ['segretario'],
      scope: 'ente',
      payload: CertifyExecutivityDto,
    },
    'convention.sign': {
      description: 'Sottoscrive digitalmente la convenzione per il proprio ente',
      roles: ['sindaco', 'presidente'],
      scope: 'ente',
      payload: SignConventionDto,
    },
    'convention.amendment.accept': {
      description:
        'Il gruppo di lavoro accoglie l’emendamento: nuova versione del testo, tutti i consigli la riapprovano',
      roles: ['gruppo_lavoro', 'presidente', 'staff'],
      scope: 'unione',
      payload: AmendmentTextDto,
    },
    'convention.amendment.refuse': {
      description:
        'Il gruppo di lavoro respinge l’emendamento: il consiglio delibera di nuovo sul testo vigente',
      roles: ['gruppo_lavoro', 'presidente', 'staff'],
      scope: 'unione',
      payload: AbandonDto,
    },
    'convention.amendment.open': {
      description: 'Apre la modifica della convenzione in vigore con un nuovo testo',
      roles: ['presidente', 'staff', 'gruppo_lavoro'],
      scope: 'unione',
      payload: AmendmentTextDto,
    },
    'convention.adhesion.open': {
      description: 'Avvia l’adesione successiva di un comune dell’Unione',
      roles: ['presidente', 'staff'],
      scope: 'unione',
      payload: AdhesionOpenDto,
      resolveEnte: true,
    },
    'convention.adhesion.accept': {
      description: 'La Giunta dell’Unione accoglie l’adesione (deliberazione)',
      roles: ['presidente'],
      scope: 'unione',
      payload: AdhesionAcceptDto,
      registersAct: (s, ev) => {
        const p = ev.payload as { number: string; date: string };
        return { ente: ctxOf(s).unione, organ: 'GU', number: p.number, date: p.date };
      },
    },
    'convention.recesso.record': {
      description: 'Registra la deliberazione di recesso del proprio comune e la data di effetto',
      roles: ['segretario'],
      scope: 'ente',
      payload: RecessoDto,
      registersAct: councilAct,
    },
    'convention.renewal.record': {
      description: 'Registra la deliberazione di rinnovo espresso del proprio ente',
      roles: ['segretario'],
      scope: 'ente',
      payload: CollectiveActDto,
      registersAct: councilAct,
    },
    'convention.dissolution.record': {
      description: 'Registra la deliberazione di scioglimento consensuale del proprio ente',
      roles: ['segretario'],
      scope: 'ente',
      payload: CollectiveActDto,
      registersAct: councilAct,
    },
    'convention.recesso.effective': {
      description: 'Il recesso produce effetto',
      roles: [],
      scope: 'system',
      payload: RecessoEffectiveDto,
    },
    'convention.expire': {
      description: 'Scadenza del termine di durata',
      roles: [],
      scope: 'system',
      payload: ExpireDto,
    },
    'convention.deadline.extend': {
      description: 'Proroga il termine per deliberare (motivata)',
      roles: ['presidente', 'staff'],
      scope: 'unione',
      payload: ExtendDeadlineDto,
    },
    'convention.abandon': {
      description: 'Archivia il procedimento (motivato)',
      roles: ['presidente'],
      scope: 'unione',
      payload: AbandonDto,
    },
    'convention.reminder': {
      description: 'Sollecito prima del termine',
      roles: [],
      scope: 'system',
      payload: ReminderDto,
    },
    'convention.deadline.expire': {
      description: 'Scadenza del termine per deliberare',
      roles: [],
      scope: 'system',
      payload: DeadlineExpireDto,
    },
    'convention.decorrenza.reach': {
      description: 'Decorrenza della convenzione',
      roles: [],
      scope: 'system',
      payload: DecorrenzaDto,
    },
  }),
  timers: conventionTimers,
  // what conventionTimers arms in each state, for the diagram (GET /v1/definitions/convenzione/diagram)
  timerDocs: {
    IN_DELIBERATION: ['deadline:<ente> (councilDeadlineDays)', 'reminder:<ente>:<n>'],
    SIGNED: ['decorrenza'],
    IN_FORCE: [
      'deadline:<ente> (adesione successiva)',
      'recesso:<ente> (data di effetto)',
      'expiry:<scadenza>',
    ],
  },
  status: conventionStatus,
  stateLabel: conventionStateLabel,
  pendingEntes,
  nextDeadline,
  view: (s) => {
    const ctx = ctxOf(s);
    return {
      title: ctx.title,
      unione: ctx.unione,
      policy: ctx.policy,
      /** the entes taking part now (the Unione first): not rejected, non aderente, receduto, nor still joining */
      participants: participatingEntes(ctx).map((e) => e.codiceIpa),
      /** comuni whose late adhesion is under way */
      joining: ctx.entes.filter(isJoining).map((e) => e.codiceIpa),
      text: ctx.text,
      textVersions: ctx.textVersions,
      sentAt: ctx.sentAt,
      stipulatedAt: ctx.stipulatedAt,
      decorrenzaDate: ctx.decorrenzaDate,
      inForceFrom: ctx.inForceFrom,
      inForceVersion: ctx.inForceVersion,
      amending: ctx.amending,
      textInForce: ctx.beforeAmendment?.text ?? (ctx.inForceVersion !== null ? ctx.text : null),
      expiresOn: ctx.expiresOn,
      closedReason: ctx.closedReason,
      tasks: ctx.tasks,
      quorum:
        ctx.policy.approval === 'QUORUM'
          ? {
              minEntes: ctx.policy.quorumMinEntes,
              minPopulationPct: ctx.policy.quorumMinPopulationPct,
              approvingComuni: ctx.entes.filter(
                (e) =>
                  e.kind === 'COMUNE' && ['APPROVED', 'EXECUTIVE', 'SIGNED'].includes(e.status),
              ).length,
            }
          : null,
      entes: ctx.entes.map((e) => ({
        ente: e.codiceIpa,
        denominazione: e.denominazione,
        kind: e.kind,
        popolazione: e.popolazione,
        status: e.status,
        joining: e.joining,
        convened: e.convened,
        deadline: e.deadline,
        recesso: e.recesso,
        acts: e.acts,
        leftOn: e.leftOn,
        deliberation: e.deliberation,
        sessions: e.sessions,
        executivity: e.executivity,
        signature: e.signature,
        remindersSent: e.remindersSent,
      })),
    };
  },
};
