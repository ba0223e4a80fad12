import type { ExecutivityReading, IsoDate } from '@app/calendar';
import type { ActorRecord } from '@app/common';
import type { EnteFacts, MachineEvent } from '../definition';

export const APPROVAL_RULES = ['UNANIMITY', 'QUORUM'] as const;
export type ApprovalRule = (typeof APPROVAL_RULES)[number];

/** what happens to a council that lets its term pass (DOMAIN.md §2.5) */
export const NON_DELIBERATING_RULES = ['STALL', 'EXTEND_ONCE_THEN_NON_ADERENTE'] as const;
export type NonDeliberatingRule = (typeof NON_DELIBERATING_RULES)[number];

export const DECORRENZA_RULES = [
  'AT_LAST_SIGNATURE',
  'FIRST_DAY_OF_NEXT_MONTH',
  'FIXED_DATE',
] as const;
export type DecorrenzaRule = (typeof DECORRENZA_RULES)[number];

export const EXECUTIVITY_READINGS = [
  'P_PLUS_10',
  'P_PLUS_11',
  'AFTER_PUBLICATION_PLUS_10',
] as const;

export interface ConventionPolicy {
  approval: ApprovalRule;
  /** QUORUM: at least this many comuni must approve (the Unione always must) */
  quorumMinEntes: number | null;
  /** QUORUM: and they must hold at least this share of the population, 0..100 */
  quorumMinPopulationPct: number;
  nonDeliberating: NonDeliberatingRule;
  /** the automatic extension granted once under EXTEND_ONCE_THEN_NON_ADERENTE */
  extensionDays: number;
  /** convocation notice: the council is convened at least N days before the session (backward term) */
  councilNoticeDays: number;
  /** art. 49 TUEL: a deliberation must carry the parere tecnico (and contabile with cost clauses) */
  requirePareri: boolean;
  /** fixed term of the convention in years; renewal is express, by deliberations */
  durationYears: number;
  /** recesso: the effective date is at least this many days after the recesso deliberation */
  recessoNoticeDays: number;
  /** below this many comuni the convention ends (recesso) */
  minComuni: number;
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
  /**
   * DOMAIN.md §4.1: a council term ending on a Saturday moves to the next working day (art. 155 c.5 c.p.c.
   * style). Off by default: for administrative deadlines Saturday is a working day. Absent in snapshots
   * written before the policy existed, which reads as false.
   */
  saturdayExtends?: boolean;
}

export const DEFAULT_POLICY: ConventionPolicy = {
  approval: 'UNANIMITY',
  quorumMinEntes: null,
  quorumMinPopulationPct: 0,
  nonDeliberating: 'STALL',
  extensionDays: 30,
  councilNoticeDays: 5,
  requirePareri: true,
  durationYears: 5,
  recessoNoticeDays: 180,
  minComuni: 2,
  councilDeadlineDays: 60,
  reminderDaysBefore: [15, 7, 1],
  executivityReading: 'P_PLUS_11',
  decorrenza: 'AT_LAST_SIGNATURE',
  decorrenzaDate: null,
  costClauses: false,
  saturdayExtends: false,
};

export const DELIBERATION_OUTCOMES = [
  'APPROVED',
  'APPROVED_WITH_AMENDMENTS',
  'REJECTED',
  'RINVIATA',
  'SEDUTA_DESERTA',
] as const;
export type DeliberationOutcome = (typeof DELIBERATION_OUTCOMES)[number];

export const ENTE_STATUSES = [
  'INVITED',
  'COUNCIL_CONVENED',
  'APPROVED',
  'APPROVED_WITH_AMENDMENTS',
  'EXECUTIVE',
  'ADMITTED',
  'SIGNED',
  'REJECTED',
  'NON_ADERENTE',
  'RECEDUTO',
] as const;
export type EnteStatus = (typeof ENTE_STATUSES)[number];

export interface Votes {
  favorevoli: number;
  contrari: number;
  astenuti: number;
  presenti: number;
  /** consiglieri assegnati, sindaco included (art. 134 c.4: IE needs the majority of members) */
  assegnati: number;
}

export const PARERE_TYPES = ['TECNICO', 'CONTABILE', 'REVISORE'] as const;
export const PARERE_OUTCOMES = ['FAVOREVOLE', 'CONTRARIO', 'NON_DOVUTO'] as const;
export interface Parere {
  type: (typeof PARERE_TYPES)[number];
  outcome: (typeof PARERE_OUTCOMES)[number];
  signer: string;
  date: IsoDate;
}

export interface Deliberation {
  /** CC = consiglio comunale, CU = consiglio dell'unione */
  organ: 'CC' | 'CU';
  number: string;
  date: IsoDate;
  outcome: DeliberationOutcome;
  textHash: string | null;
  /** text version the hash matched when recorded (null for an amended text) */
  textVersion: number | null;
  amendments: string | null;
  pareri: Parere[];
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

export interface CouncilSession {
  sessionDate: IsoDate;
  noticeDate: IsoDate;
}

export interface CollectiveAct {
  act: 'RINNOVO' | 'SCIOGLIMENTO';
  number: string;
  date: IsoDate;
}

export interface EnteProgress extends EnteFacts {
  status: EnteStatus;
  /** a comune joining a convention already in force (adesione successiva) */
  joining: boolean;
  convened: CouncilSession | null;
  recesso: { number: string; date: IsoDate; effectiveDate: IsoDate } | null;
  /** renewal / dissolution deliberations while in force */
  acts: CollectiveAct[];
  /** when this ente stopped taking part, and why (NON_ADERENTE, REJECTED under QUORUM, RECEDUTO) */
  leftOn: IsoDate | null;
  deadline: Deadline | null;
  /** council sessions that did not decide (RINVIATA, SEDUTA_DESERTA), oldest first */
  sessions: Deliberation[];
  deliberation: Deliberation | null;
  executivity: Executivity | null;
  signature: Signature | null;
  remindersSent: number;
  /** the PEC delivery of the text to this ente (its own RdAC): the council's term runs from it */
  delivery?: EnteDelivery | null;
  /** a joining comune: the Giunta dell'Unione's deliberation accepting its adhesion (the addendum follows it) */
  admission?: { number: string; date: IsoDate } | null;
}

export interface EnteDelivery {
  deliveredAt: string;
  /** `pec-receipt`: read from the ricevuta di avvenuta consegna; `manual`: recorded by the Unione */
  source: 'pec-receipt' | 'manual';
  receiptId: string | null;
  recordedAt: string;
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
  /** the text version in force, while an amendment runs through the loop */
  inForceVersion: number | null;
  /** the loop runs for an amendment of a convention already in force */
  amending: boolean;
  /** the text and rows in force when the amendment was opened: restored if the amendment fails */
  beforeAmendment: { text: TextVersion | null; entes: EnteProgress[] } | null;
  expiresOn: IsoDate | null;
  closedReason: string | null;
  /** tasks raised for people (e.g. a comune outside the association must appoint its own RTD) */
  tasks: { ente: string; text: string; raisedAt: string }[];
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
    amendments?: string;
    pareri?: Parere[];
    votes?: Votes;
    immediatamenteEseguibile?: boolean;
    ieVotes?: Votes;
  }
>;
export type ConveneEvent = MachineEvent<
  'convention.council.convene',
  { ente: string; sessionDate: IsoDate; noticeDate: IsoDate }
>;
export type AmendmentAcceptEvent = MachineEvent<'convention.amendment.accept', { text: string }>;
export type AmendmentRefuseEvent = MachineEvent<'convention.amendment.refuse', { reason: string }>;
export type AmendmentOpenEvent = MachineEvent<'convention.amendment.open', { text: string }>;
export type AdhesionOpenEvent = MachineEvent<
  'convention.adhesion.open',
  { ente: string; enteFacts?: EnteFacts }
>;
export type AdhesionAcceptEvent = MachineEvent<
  'convention.adhesion.accept',
  { ente: string; number: string; date: IsoDate }
>;
export type RecessoEvent = MachineEvent<
  'convention.recesso.record',
  { ente: string; number: string; date: IsoDate; effectiveDate: IsoDate }
>;
export type RecessoEffectiveEvent = MachineEvent<
  'convention.recesso.effective',
  { ente: string; date: IsoDate }
>;
export type CollectiveActEvent = MachineEvent<
  'convention.renewal.record' | 'convention.dissolution.record',
  { ente: string; number: string; date: IsoDate }
>;
export type ExpireEvent = MachineEvent<'convention.expire', { date: IsoDate }>;
export type CertifyExecutivityEvent = MachineEvent<
  'convention.executivity.certify',
  { ente: string; publicationStart: IsoDate; executiveOn: IsoDate }
>;
export type SignEvent = MachineEvent<
  'convention.sign',
  {
    ente: string;
    signedAt: string;
    signatureType: Signature['signatureType'];
    digitalSignature: boolean;
  }
>;
export type ExtendDeadlineEvent = MachineEvent<
  'convention.deadline.extend',
  { ente?: string; days: number; reason: string }
>;
export type AbandonEvent = MachineEvent<'convention.abandon', { reason: string }>;
export type ReminderEvent = MachineEvent<
  'convention.reminder',
  { ente: string; daysBefore: number }
>;
export type DeadlineExpireEvent = MachineEvent<
  'convention.deadline.expire',
  { ente: string; dueAt: string }
>;
export type DecorrenzaEvent = MachineEvent<'convention.decorrenza.reach', { date: IsoDate }>;
/** the PEC delivery of the text to one ente: from its receipt (system) or recorded by the Unione (manual) */
export type DeliveryEvent = MachineEvent<
  'convention.delivery.receipt' | 'convention.delivery.record',
  { ente: string; deliveredAt: string; receiptId?: string }
>;

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
  | DecorrenzaEvent
  | ConveneEvent
  | AmendmentAcceptEvent
  | AmendmentRefuseEvent
  | AmendmentOpenEvent
  | AdhesionOpenEvent
  | AdhesionAcceptEvent
  | RecessoEvent
  | RecessoEffectiveEvent
  | CollectiveActEvent
  | ExpireEvent
  | DeliveryEvent;
