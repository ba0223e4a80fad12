import type { AnyMachineSnapshot } from 'xstate';
import { addCalendarDays, atRomeTime } from '@app/calendar';
import type { EnteFacts, MachineEvent, ProcessDefinition, ProcessStatus, TimerSpec } from '../definition';
import {
  AbandonDto,
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
import { checkDeliberation, checkExecutivity, checkExtend, checkSend, checkSign } from './convention.rules';
import type {
  CertifyExecutivityEvent,
  ConventionContext,
  ExtendDeadlineEvent,
  RecordDeliberationEvent,
  SendEvent,
  SignEvent,
} from './convention.types';
import { DEFAULT_POLICY } from './convention.types';

const ctxOf = (s: AnyMachineSnapshot): ConventionContext => s.context as ConventionContext;

/** Top-level state name, with STALLED surfaced from IN_DELIBERATION.STALLED */
export function conventionStateLabel(s: AnyMachineSnapshot): string {
  const v = s.value as string | Record<string, string>;
  if (typeof v === 'string') return v;
  const [top, sub] = Object.entries(v)[0] as [string, string];
  return sub === 'STALLED' ? 'STALLED' : top;
}

/** Reminders at 09:00 Rome on T-n; the deadline at 23:59:59.999 Rome on T (DOMAIN.md §4, DESIGN "Timers"). */
export function conventionTimers(s: AnyMachineSnapshot): TimerSpec[] {
  const ctx = ctxOf(s);
  const label = conventionStateLabel(s);
  const out: TimerSpec[] = [];
  if (label === 'IN_DELIBERATION' || label === 'STALLED') {
    for (const e of ctx.entes) {
      const d = e.deadline;
      if (e.status !== 'INVITED' || !d || d.overdue) continue;
      out.push({
        key: `deadline:${e.codiceIpa}`,
        kind: 'deadline',
        dueAt: d.dueAt,
        event: { type: 'convention.deadline.expire', payload: { ente: e.codiceIpa, dueAt: d.dueAt } },
      });
      for (const n of ctx.policy.reminderDaysBefore) {
        const dueAt = atRomeTime(addCalendarDays(d.date, -n), 9).toISOString();
        // a reminder whose moment passed before the term was set would only arrive late: skip it
        if (dueAt <= d.setAt) continue;
        out.push({
          key: `reminder:${e.codiceIpa}:${n}`,
          kind: 'reminder',
          dueAt,
          event: { type: 'convention.reminder', payload: { ente: e.codiceIpa, daysBefore: n } },
        });
      }
    }
  }
  if (label === 'SIGNED' && ctx.decorrenzaDate) {
    out.push({
      key: 'decorrenza',
      kind: 'deadline',
      dueAt: atRomeTime(ctx.decorrenzaDate, 0).toISOString(),
      event: { type: 'convention.decorrenza.reach', payload: { date: ctx.decorrenzaDate } },
    });
  }
  return out;
}

function conventionStatus(s: AnyMachineSnapshot): ProcessStatus {
  switch (conventionStateLabel(s)) {
    case 'IN_FORCE':
      return 'completed';
    case 'FAILED':
      return 'failed';
    case 'ABANDONED':
      return 'terminated';
    default:
      return 'active';
  }
}

/** entes with a step of their own to take now */
function pendingEntes(s: AnyMachineSnapshot): string[] {
  const ctx = ctxOf(s);
  switch (conventionStateLabel(s)) {
    case 'IN_DELIBERATION':
    case 'STALLED':
    case 'APPROVED_ALL':
      return ctx.entes.filter((e) => e.status === 'INVITED' || e.status === 'APPROVED').map((e) => e.codiceIpa);
    case 'READY_TO_SIGN':
      return ctx.entes.filter((e) => e.status === 'EXECUTIVE').map((e) => e.codiceIpa);
    default:
      return [];
  }
}

function nextDeadline(s: AnyMachineSnapshot): string | null {
  const label = conventionStateLabel(s);
  if (label !== 'IN_DELIBERATION' && label !== 'STALLED') return null;
  const open = ctxOf(s)
    .entes.filter((e) => e.status === 'INVITED' && e.deadline)
    .map((e) => e.deadline!.dueAt)
    .sort();
  return open[0] ?? null;
}

const asRule =
  <E>(f: (ctx: ConventionContext, ev: E) => ReturnType<typeof checkSend>) =>
  (s: AnyMachineSnapshot, ev: MachineEvent) =>
    f(ctxOf(s), ev as unknown as E);

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
  machineInput: (input, entes: ReadonlyMap<string, EnteFacts>) => ({
    title: input.title,
    unione: entes.get(input.unione),
    members: input.members.map((m) => entes.get(m)),
    policy: { ...DEFAULT_POLICY, ...(input.policy ?? {}) },
  }),
  titleOf: (s) => ctxOf(s).title,
  events: {
    'convention.freeze': {
      description: 'Congela il testo dello schema (SHA-256) approvato dalla Giunta dell’Unione',
      roles: ['presidente', 'staff'],
      scope: 'unione',
      payload: FreezeTextDto,
    },
    'convention.send': {
      description: 'Registra l’invio PEC dello schema ai consigli (data della ricevuta di consegna)',
      roles: ['presidente'],
      scope: 'unione',
      payload: SendToCouncilsDto,
      rule: asRule<SendEvent>(checkSend),
    },
    'convention.deliberation.record': {
      description: 'Registra l’esito della deliberazione consiliare del proprio ente',
      roles: ['segretario'],
      scope: 'ente',
      payload: RecordDeliberationDto,
      rule: asRule<RecordDeliberationEvent>(checkDeliberation),
    },
    'convention.executivity.certify': {
      description: 'Certifica pubblicazione all’albo ed esecutività della deliberazione (art. 134 TUEL)',
      roles: ['segretario'],
      scope: 'ente',
      payload: CertifyExecutivityDto,
      rule: asRule<CertifyExecutivityEvent>(checkExecutivity),
    },
    'convention.sign': {
      description: 'Sottoscrive digitalmente la convenzione per il proprio ente',
      roles: ['sindaco', 'presidente'],
      scope: 'ente',
      payload: SignConventionDto,
      rule: asRule<SignEvent>(checkSign),
    },
    'convention.deadline.extend': {
      description: 'Proroga il termine per deliberare (motivata)',
      roles: ['presidente', 'staff'],
      scope: 'unione',
      payload: ExtendDeadlineDto,
      rule: asRule<ExtendDeadlineEvent>(checkExtend),
    },
    'convention.abandon': {
      description: 'Archivia il procedimento (motivato)',
      roles: ['presidente'],
      scope: 'unione',
      payload: AbandonDto,
    },
    'convention.reminder': { description: 'Sollecito prima del termine', roles: [], scope: 'system', payload: ReminderDto },
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
  },
  timers: conventionTimers,
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
      text: ctx.text,
      textVersions: ctx.textVersions,
      sentAt: ctx.sentAt,
      stipulatedAt: ctx.stipulatedAt,
      decorrenzaDate: ctx.decorrenzaDate,
      inForceFrom: ctx.inForceFrom,
      closedReason: ctx.closedReason,
      entes: ctx.entes.map((e) => ({
        ente: e.codiceIpa,
        denominazione: e.denominazione,
        kind: e.kind,
        popolazione: e.popolazione,
        status: e.status,
        deadline: e.deadline,
        deliberation: e.deliberation,
        sessions: e.sessions,
        executivity: e.executivity,
        signature: e.signature,
        remindersSent: e.remindersSent,
      })),
    };
  },
};
