import type { IsoDate } from '@app/calendar';
import type { ActorRecord } from '@app/common';
import type { EnteFacts, MachineEvent } from '../definition';

/** The RTD appointment (art. 17 CAD, DOMAIN.md §3): types shared by machine, rules and definition. */

export interface RtdPolicy {
  /** the decreto within N days of the vacancy (for the first appointment: of the convention's decorrenza) */
  decreeDays: number;
  /** acceptance with declarations within N days of the PEC notification (of the decree until it is recorded) */
  acceptanceDays: number;
  /** albo pretorio and Amministrazione Trasparente within N days of the acceptance */
  publicationDays: number;
  /** each ente registers the RTD on IPA within N days of the publication (or of joining, or of a re-check) */
  ipaDays: number;
  /** IPA data are checked again every N months while the RTD is active (Linee guida IPA: at least every 6) */
  ipaRecheckMonths: number;
  /** reminders, in days before each deadline (09:00 Rome) */
  reminderDaysBefore: number[];
}

export const DEFAULT_RTD_POLICY: RtdPolicy = {
  decreeDays: 30,
  acceptanceDays: 10,
  publicationDays: 5,
  ipaDays: 15,
  ipaRecheckMonths: 6,
  reminderDaysBefore: [2],
};

export const RTD_LEVELS = ['DIRIGENTE', 'EQ'] as const;
export type RtdLevel = (typeof RTD_LEVELS)[number];

export const ACT_TYPES = ['DECRETO', 'DELIBERA_GIUNTA', 'DETERMINA'] as const;
export type ActType = (typeof ACT_TYPES)[number];

export const PUBLICATION_CHANNELS = ['ALBO', 'AMMINISTRAZIONE_TRASPARENTE'] as const;
export type PublicationChannel = (typeof PUBLICATION_CHANNELS)[number];

export const END_REASONS = [
  'REVOCA',
  'DIMISSIONI',
  'SCADENZA',
  'FINE_INCARICO',
  'SOSTITUZIONE',
  'RINUNCIA',
  'FINE_CONVENZIONE',
] as const;
export type EndReason = (typeof END_REASONS)[number];

/** the person proposed for the office and what they bring (art. 17 c.1-ter, 1-sexies CAD; D.Lgs. 39/2013) */
export interface Candidate {
  name: string;
  codiceFiscale: string;
  pec: string | null;
  email: string | null;
  level: RtdLevel | null;
  /** does the appointing ente have dirigenti? EQ only where it has none (art. 17 c.1-sexies) */
  enteHasDirigenti: boolean | null;
  competences: { tecnologiche: boolean; giuridiche: boolean; manageriali: boolean };
  declarations: { inconferibilita: boolean; incompatibilita: boolean };
  /** last day of the underlying dirigenziale / EQ incarico */
  incaricoEnd: IsoDate | null;
  selectedAt: string;
  selectedBy: ActorRecord;
}

export interface Deadline {
  date: IsoDate;
  dueAt: string;
  setAt: string;
  overdue: boolean;
}

export interface AppointmentAct {
  type: ActType;
  number: string;
  date: IsoDate;
}

export interface Publication {
  date: IsoDate;
  reference: string;
  recordedAt: string;
}

export interface Appointment {
  /** 1, 2, … in the life of this process */
  seq: number;
  candidate: Candidate;
  act: AppointmentAct;
  startDate: IsoDate;
  /** last day in office: start + duration - 1, never past the incarico */
  endDate: IsoDate;
  durationMonths: number;
  entes: string[];
  referenti: { ente: string; name: string; email: string | null }[];
  notifiedAt: string | null;
  acceptedAt: string | null;
  publications: { albo: Publication | null; trasparenza: Publication | null };
  activeSince: string | null;
  acceptanceDeadline: Deadline | null;
  publicationDeadline: Deadline | null;
  /** set when the appointment ends: the last day served and why */
  endedOn: IsoDate | null;
  endReason: EndReason | null;
  endAct: { number: string; date: IsoDate; reason: string } | null;
}

/** the per-ente branch (rtd.ente.machine.ts): IPA_PENDING → IPA_REGISTERED ⇄ RECHECK_DUE, WITHDRAWN */
export type EnteBranchState = 'IPA_PENDING' | 'IPA_REGISTERED' | 'RECHECK_DUE' | 'WITHDRAWN';

export interface EnteService extends EnteFacts {
  branch: EnteBranchState;
  servedFrom: IsoDate | null;
  /** last day served (recesso: the day before its effective date) */
  servedUntil: IsoDate | null;
  ipa: {
    registeredOn: IsoDate;
    reference: string | null;
    confirmedAt: string;
    confirmedBy: ActorRecord;
  } | null;
  ipaDeadline: Deadline | null;
}

export interface Vacancy {
  since: IsoDate;
  reason: EndReason | 'AVVIO';
  /** the vacancy alert went out (once, at once) */
  alerted: boolean;
  decreeDeadline: Deadline;
}

export interface RtdContext {
  title: string;
  unione: string;
  convention: { instanceId: string; title: string } | null;
  policy: RtdPolicy;
  /** the entes served (the Unione first), with their own IPA branch */
  entes: EnteService[];
  candidate: Candidate | null;
  /** the appointment in office or on its way there */
  current: Appointment | null;
  /** ended appointments, oldest first */
  past: Appointment[];
  vacancy: Vacancy | null;
  /** every vacancy and how long it took to appoint again */
  vacancies: { since: IsoDate; filledOn: IsoDate; days: number; reason: string }[];
  lastIpaCheck: IsoDate | null;
  /** reminders sent so far (each one is a step in the history) */
  remindersSent: number;
  tasks: { ente: string; text: string; raisedAt: string }[];
  closedReason: string | null;
}

export interface RtdInput {
  title: string;
  unione: EnteFacts;
  members: EnteFacts[];
  policy: RtdPolicy;
  convention: { instanceId: string; title: string } | null;
  /** comuni of the Unione outside the convention (non aderente, rejected, receded): each needs its own RTD */
  outsiders: EnteFacts[];
  /** when the vacancy started (the convention's decorrenza) */
  since: IsoDate;
}

// ---- events
export type CandidateSelectEvent = MachineEvent<
  'rtd.candidate.select',
  {
    name: string;
    codiceFiscale: string;
    pec?: string;
    email?: string;
    level?: RtdLevel;
    enteHasDirigenti?: boolean;
    competences?: { tecnologiche?: boolean; giuridiche?: boolean; manageriali?: boolean };
    declarations?: { inconferibilita?: boolean; incompatibilita?: boolean };
    incaricoEnd?: IsoDate;
  }
>;
export type CandidateWithdrawEvent = MachineEvent<'rtd.candidate.withdraw', { reason: string }>;
export type DecreeEvent = MachineEvent<
  'rtd.decree.issue',
  {
    act: AppointmentAct;
    startDate: IsoDate;
    durationMonths: number;
    entes: string[];
    referenti: { ente: string; name: string; email?: string }[];
  }
>;
export type NotificationEvent = MachineEvent<'rtd.notification.record', { deliveredAt: string }>;
export type AcceptEvent = MachineEvent<
  'rtd.accept',
  { declarations: { inconferibilita: boolean; incompatibilita: boolean } }
>;
export type DeclineEvent = MachineEvent<'rtd.decline', { reason: string }>;
export type PublicationEvent = MachineEvent<
  'rtd.publication.record',
  { channel: PublicationChannel; date: IsoDate; reference: string }
>;
export type IpaConfirmEvent = MachineEvent<
  'rtd.ipa.confirm',
  { ente: string; registeredOn: IsoDate; reference?: string }
>;
export type RevokeEvent = MachineEvent<
  'rtd.revoke',
  { number: string; date: IsoDate; effectiveDate: IsoDate; reason: string }
>;
export type ResignationEvent = MachineEvent<
  'rtd.resignation.record',
  { date: IsoDate; effectiveDate: IsoDate }
>;
export type IncaricoEndEvent = MachineEvent<'rtd.incarico.end', { date: IsoDate; reason: string }>;
export type TermExpireEvent = MachineEvent<'rtd.term.expire', { date: IsoDate }>;
export type IpaRecheckEvent = MachineEvent<'rtd.ipa.recheck', { date: IsoDate }>;
export type DeadlineExpireEvent = MachineEvent<
  'rtd.deadline.expire',
  { key: string; dueAt: string }
>;
export type ReminderEvent = MachineEvent<'rtd.reminder', { key: string; daysBefore: number }>;
export type EnteAddEvent = MachineEvent<
  'rtd.ente.add',
  { ente: string; date: IsoDate; enteFacts?: EnteFacts }
>;
export type EnteWithdrawEvent = MachineEvent<
  'rtd.ente.withdraw',
  { ente: string; date: IsoDate; reason: string }
>;
export type ConventionEndEvent = MachineEvent<
  'rtd.convention.end',
  { date: IsoDate; reason: string }
>;

export type RtdEvent =
  | CandidateSelectEvent
  | CandidateWithdrawEvent
  | DecreeEvent
  | NotificationEvent
  | AcceptEvent
  | DeclineEvent
  | PublicationEvent
  | IpaConfirmEvent
  | RevokeEvent
  | ResignationEvent
  | IncaricoEndEvent
  | TermExpireEvent
  | IpaRecheckEvent
  | DeadlineExpireEvent
  | ReminderEvent
  | EnteAddEvent
  | EnteWithdrawEvent
  | ConventionEndEvent;
