import type { ExecutivityReading, IsoDate } from '@app/calendar';
import type { ActorRecord } from '@app/common';
import type { EnteFacts, MachineEvent } from '../definition';

export const APPROVAL_RULES = ['UNANIMITY'] as const;
export type ApprovalRule = (typeof APPROVAL_RULES)[number];

export const DECORRENZA_RULES = ['AT_LAST_SIGNATURE', 'FIRST_DAY_OF_NEXT_MONTH', 'FIXED_DATE'] as const;
export type DecorrenzaRule = (typeof DECORRENZA_RULES)[number];

export const EXECUTIVITY_READINGS = ['P_PLUS_10', 'P_PLUS_11', 'AFTER_PUBLICATION_PLUS_10'] as const;

export interface ConventionPolicy {
  approval: ApprovalRule;
  /** council deadline, in days from the PEC delivery receipt (RdAC); start day excluded, holiday-shifted */
  councilDeadlineDays: number;
  /** reminders, in days before the deadline (sent at 09:00 Rome time) */
  reminderDaysBefore: number[];
  /** how executivity is computed when a segretario certifies it (the certified date always wins) */
  executivityReading: ExecutivityReading;
  decorrenza: DecorrenzaRule;
  /** with FIXED_DATE: the date the convention takes effect (if later than the last signature) */
  decorrenzaDate: IsoDate | null;
  /** art. 49 TUEL: a parere contabile is needed when the convention has cost-sharing clauses */
  costClauses: boolean;
}

export const DEFAULT_POLICY: ConventionPolicy = {
  approval: 'UNANIMITY',
  councilDeadlineDays: 60,
  reminderDaysBefore: [15, 7, 1],
  executivityReading: 'P_PLUS_11',
  decorrenza: 'AT_LAST_SIGNATURE',
  decorrenzaDate: null,
  costClauses: false,
};

export const DELIBERATION_OUTCOMES = ['APPROVED', 'REJECTED', 'RINVIATA', 'SEDUTA_DESERTA'] as const;
export type DeliberationOutcome = (typeof DELIBERATION_OUTCOMES)[number];

export const ENTE_STATUSES = ['INVITED', 'APPROVED', 'EXECUTIVE', 'SIGNED', 'REJECTED'] as const;
export type EnteStatus = (typeof ENTE_STATUSES)[number];

export interface Votes {
  favorevoli: number;
  contrari: number;
  astenuti: number;
  presenti: number;
  /** consiglieri assegnati, sindaco included (art. 134 c.4: IE needs the majority of members) */
  assegnati: number;
}

export interface Deliberation {
  /** CC = consiglio comunale, CU = consiglio dell'unione */
  organ: 'CC' | 'CU';
  number: string;
  date: IsoDate;
  outcome: DeliberationOutcome;
  textHash: string | null;
  votes: Votes | null;
  immediatamenteEseguibile: boolean;
  ieVotes: Votes | null;
  recordedAt: string;
  recordedBy: ActorRecord;
}

export interface Executivity {
  basis: 'IMMEDIATA_ESEGUIBILITA' | 'PUBBLICAZIONE';
  publicationStart: IsoDate | null;
  publicationEnd: IsoDate | null;
  /** what the policy's reading computes; informative */
  computedOn: IsoDate | null;
  /** what the segretario certifies: the source of truth */
  certifiedOn: IsoDate;
  certifiedBy: ActorRecord;
}

export interface Signature {
  signer: string;
  signerRole: string;
  signedAt: string;
  signatureType: 'FIRMA_DIGITALE' | 'FEA' | 'FEQ';
}

export interface Deadline {
  date: IsoDate;
  dueAt: string;
  /** when this deadline was set (sending or extension): reminders before it are not armed */
  setAt: string;
  extensions: number;
  overdue: boolean;
}

export interface EnteProgress extends EnteFacts {
  status: EnteStatus;
  deadline: Deadline | null;
  /** council sessions that did not decide (RINVIATA, SEDUTA_DESERTA), oldest first */
  sessions: Deliberation[];
  deliberation: Deliberation | null;
  executivity: Executivity | null;
  signature: Signature | null;
  remindersSent: number;
}

export interface TextVersion {
  version: number;
  sha256: string;
  length: number;
  frozenAt: string;
  frozenBy: ActorRecord;
}

export interface ConventionContext {
  title: string;
  unione: string;
  policy: ConventionPolicy;
  text: TextVersion | null;
  textVersions: TextVersion[];
  sentAt: string | null;
  /** the Unione first, then the member comuni in input order */
  entes: EnteProgress[];
  stipulatedAt: string | null;
  decorrenzaDate: IsoDate | null;
  inForceFrom: IsoDate | null;
  closedReason: string | null;
}

export interface ConventionInput {
  title: string;
  unione: EnteFacts;
  members: EnteFacts[];
  policy: ConventionPolicy;
}

// ---- events (payloads as validated by convention.events.ts) ----
export type FreezeEvent = MachineEvent<'convention.freeze', { text: string }>;
export type SendEvent = MachineEvent<'convention.send', { deliveredAt: string }>;
export type RecordDeliberationEvent = MachineEvent<
  'convention.deliberation.record',
  {
    ente: string;
    number: string;
    date: IsoDate;
    outcome: DeliberationOutcome;
    textHash?: string;
    votes?: Votes;
    immediatamenteEseguibile?: boolean;
    ieVotes?: Votes;
  }
>;
export type CertifyExecutivityEvent = MachineEvent<
  'convention.executivity.certify',
  { ente: string; publicationStart: IsoDate; executiveOn: IsoDate }
>;
export type SignEvent = MachineEvent<
  'convention.sign',
  { ente: string; signedAt: string; signatureType: Signature['signatureType']; digitalSignature: boolean }
>;
export type ExtendDeadlineEvent = MachineEvent<'convention.deadline.extend', { ente?: string; days: number; reason: string }>;
export type AbandonEvent = MachineEvent<'convention.abandon', { reason: string }>;
export type ReminderEvent = MachineEvent<'convention.reminder', { ente: string; daysBefore: number }>;
export type DeadlineExpireEvent = MachineEvent<'convention.deadline.expire', { ente: string; dueAt: string }>;
export type DecorrenzaEvent = MachineEvent<'convention.decorrenza.reach', { date: IsoDate }>;

export type ConventionEvent =
  | FreezeEvent
  | SendEvent
  | RecordDeliberationEvent
  | CertifyExecutivityEvent
  | SignEvent
  | ExtendDeadlineEvent
  | AbandonEvent
  | ReminderEvent
  | DeadlineExpireEvent
  | DecorrenzaEvent;
