/**
 * Fixtures for the convention machine (libs/workflows/src/convention): the unions of DOMAIN.md §6 (Valdera
 * with its 7 comuni and Chianni joining later, Valle di Comino, Unione dei Miracoli; ISTAT 2011 population)
 * and builders for the MachineEvents the engine would hand to the machine (`{ type, payload, actor, at }`,
 * `at` as the engine's `toISOString()` instant). Pure data: no Nest, no database, no clock.
 */
// @app/workflows loads the payload DTOs, whose class-transformer decorators need the Reflect polyfill
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import type { ActorRecord, Role } from '@app/common';
import {
  DEFAULT_POLICY,
  type AbandonEvent,
  type AdhesionAcceptEvent,
  type AdhesionOpenEvent,
  type AmendmentAcceptEvent,
  type AmendmentOpenEvent,
  type AmendmentRefuseEvent,
  type CertifyExecutivityEvent,
  type CollectiveActEvent,
  type ConveneEvent,
  type ConventionInput,
  type ConventionPolicy,
  type DeadlineExpireEvent,
  type DecorrenzaEvent,
  type EnteFacts,
  type ExpireEvent,
  type ExtendDeadlineEvent,
  type FreezeEvent,
  type Parere,
  type RecessoEffectiveEvent,
  type RecessoEvent,
  type RecordDeliberationEvent,
  type ReminderEvent,
  type DeliveryEvent,
  type SendEvent,
  type SignEvent,
  type Votes,
} from '@app/workflows';

// ---------------------------------------------------------------- entes (DOMAIN.md §6.1)

export const UNIONE_VALDERA: EnteFacts = {
  codiceIpa: 'u_valdera',
  denominazione: 'Unione Valdera',
  kind: 'UNIONE',
  popolazione: 76_435,
};

const comune = (codiceIpa: string, denominazione: string, popolazione: number): EnteFacts => ({
  codiceIpa,
  denominazione,
  kind: 'COMUNE',
  popolazione,
});

/** The 7 comuni of 2020 (Chianni joined only in 2023), in the table order of DOMAIN.md §6.1. */
export const VALDERA_COMUNI: readonly EnteFacts[] = [
  comune('c_a864', 'Bientina', 7_766),
  comune('c_b303', 'Buti', 5_773),
  comune('c_b392', 'Calcinaia', 11_684),
  comune('c_b647', 'Capannoli', 6_213),
  comune('c_m327', 'Casciana Terme Lari', 12_366),
  comune('c_g254', 'Palaia', 4_572),
  comune('c_g843', 'Pontedera', 28_061),
];

export const BIENTINA = 'c_a864';
export const BUTI = 'c_b303';
export const CALCINAIA = 'c_b392';
export const CAPANNOLI = 'c_b647';
export const CASCIANA = 'c_m327';
export const PALAIA = 'c_g254';
export const PONTEDERA = 'c_g843';
export const VALDERA = 'u_valdera';

/** every participant, the Unione first (the order of `context.entes`) */
export const VALDERA_ALL: readonly string[] = [VALDERA, ...VALDERA_COMUNI.map((c) => c.codiceIpa)];

/** Chianni joined the Unione Valdera's convention in 2023 (late adhesion, DOMAIN.md §6.1) */
export const CHIANNI = 'c_c609';
export const CHIANNI_FACTS: EnteFacts = comune(CHIANNI, 'Chianni', 1_457);

// ---------------------------------------------------------------- Valle di Comino (DOMAIN.md §6.2)

export const VALLE_DI_COMINO = 'u_valle_comino';
export const UNIONE_VALLE_DI_COMINO: EnteFacts = {
  codiceIpa: VALLE_DI_COMINO,
  denominazione: 'Unione dei Comuni Valle di Comino',
  kind: 'UNIONE',
  popolazione: 7_818,
};
export const ALVITO = 'c_a244';
export const GALLINARO = 'c_d881';
export const SAN_DONATO = 'c_h824';
export const SETTEFRATI = 'c_i697';
export const VICALVI = 'c_l836';
export const VALLE_DI_COMINO_COMUNI: readonly EnteFacts[] = [
  comune(ALVITO, 'Alvito', 2_852),
  comune(GALLINARO, 'Gallinaro', 1_246),
  comune(SAN_DONATO, 'San Donato Val di Comino', 2_122),
  comune(SETTEFRATI, 'Settefrati', 792),
  comune(VICALVI, 'Vicalvi', 806),
];

// ---------------------------------------------------------------- Unione dei Miracoli (DOMAIN.md §6.3)

export const MIRACOLI = 'u_miracoli';
export const UNIONE_MIRACOLI: EnteFacts = {
  codiceIpa: MIRACOLI,
  denominazione: 'Unione dei Miracoli',
  kind: 'UNIONE',
  popolazione: 12_985,
};
export const CASALBORDINO = 'c_b865';
export const POLLUTRI = 'c_g799';
export const SCERNI = 'c_i520';
export const VILLALFONSINA = 'c_l961';
export const MIRACOLI_COMUNI: readonly EnteFacts[] = [
  comune(CASALBORDINO, 'Casalbordino', 6_303),
  comune(POLLUTRI, 'Pollutri', 2_306),
  comune(SCERNI, 'Scerni', 3_399),
  comune(VILLALFONSINA, 'Villalfonsina', 977),
];

const UNIONI: ReadonlySet<string> = new Set([VALDERA, VALLE_DI_COMINO, MIRACOLI]);

export function conventionInput(
  overrides: Partial<Omit<ConventionInput, 'policy'>> & { policy?: Partial<ConventionPolicy> } = {},
): ConventionInput {
  const { policy, ...rest } = overrides;
  return {
    title:
      'Convenzione per la gestione associata della transizione digitale e del RTD (art. 17 CAD)',
    unione: UNIONE_VALDERA,
    members: [...VALDERA_COMUNI],
    ...rest,
    policy: { ...DEFAULT_POLICY, ...(policy ?? {}) },
  };
}

/** Unione + Bientina + Pontedera: small enough for exhaustive graph traversal. */
export function smallConventionInput(policy: Partial<ConventionPolicy> = {}): ConventionInput {
  return conventionInput({
    members: VALDERA_COMUNI.filter((c) => c.codiceIpa === BIENTINA || c.codiceIpa === PONTEDERA),
    policy,
  });
}

// ---------------------------------------------------------------- text

export const SCHEMA_TEXT_V1 = [
  'SCHEMA DI CONVENZIONE PER LA GESTIONE IN FORMA ASSOCIATA DELLE FUNZIONI DI TRANSIZIONE AL DIGITALE',
  'Art. 1 - Oggetto. Art. 2 - Ufficio per la transizione al digitale associato (art. 17 c.1-septies CAD).',
  'Art. 3 - Responsabile per la transizione al digitale. Art. 4 - Rapporti finanziari e riparto spese.',
  'Art. 5 - Durata: cinque anni, rinnovo espresso. Art. 6 - Recesso. Art. 7 - Scioglimento. Art. 8 - Controversie.',
].join('\n');

/** the schema as amended by a council (Art. 4: the cost-sharing key changes) */
export const SCHEMA_TEXT_V2 = SCHEMA_TEXT_V1.replace(
  'Art. 4 - Rapporti finanziari e riparto spese.',
  'Art. 4 - Rapporti finanziari e riparto spese in base alla popolazione al 1° gennaio.',
);

export const sha256 = (text: string): string =>
  createHash('sha256').update(text, 'utf8').digest('hex');

// ---------------------------------------------------------------- actors

export const actor = (
  role: Role,
  ente: string | null,
  subject = `${role}@${ente ?? 'iter'}`,
): ActorRecord => ({
  subject,
  role,
  ente,
});
export const PRESIDENTE = actor('presidente', VALDERA, 'presidente.valdera');
export const STAFF = actor('staff', VALDERA, 'staff.valdera');
export const GRUPPO_LAVORO = actor('gruppo_lavoro', VALDERA, 'gruppo.valdera');
export const SYSTEM = actor('system', null, 'system');
export const segretario = (ente: string): ActorRecord => actor('segretario', ente);
export const sindaco = (ente: string): ActorRecord => actor('sindaco', ente);
/** the Presidente of a union (Valdera's is PRESIDENTE) */
export const presidenteOf = (unione: string): ActorRecord =>
  unione === VALDERA ? PRESIDENTE : actor('presidente', unione);
/** who signs for an ente: the Presidente for an Unione, the sindaco for a comune */
export const signerOf = (ente: string): ActorRecord =>
  UNIONI.has(ente) ? presidenteOf(ente) : sindaco(ente);

// ---------------------------------------------------------------- votes

export const votes = (
  favorevoli: number,
  assegnati: number,
  extra: Partial<Votes> = {},
): Votes => ({
  favorevoli,
  contrari: 0,
  astenuti: 0,
  presenti: favorevoli,
  assegnati,
  ...extra,
});

// ---------------------------------------------------------------- events

export const freezeEvent = (at: string, text = SCHEMA_TEXT_V1, by = STAFF): FreezeEvent => ({
  type: 'convention.freeze',
  payload: { text },
  actor: by,
  at,
});

export const sendEvent = (deliveredAt: string, at: string, by = PRESIDENTE): SendEvent => ({
  type: 'convention.send',
  payload: { deliveredAt },
  actor: by,
  at,
});

/** the PEC delivery of the text to one ente: from its receipt (system) or recorded by hand (Unione staff) */
export const deliveryEvent = (
  ente: string,
  deliveredAt: string,
  at: string,
  source: 'receipt' | 'record' = 'receipt',
): DeliveryEvent => ({
  type: source === 'receipt' ? 'convention.delivery.receipt' : 'convention.delivery.record',
  payload:
    source === 'receipt' ? { ente, deliveredAt, receiptId: `opec-${ente}` } : { ente, deliveredAt },
  actor: source === 'receipt' ? SYSTEM : STAFF,
  at,
});

/** an art. 49 TUEL parere, FAVOREVOLE by default */
export const parere = (
  type: Parere['type'],
  date: string,
  outcome: Parere['outcome'] = 'FAVOREVOLE',
  signer = type === 'CONTABILE' ? 'Responsabile servizio finanziario' : 'Responsabile servizio ICT',
): Parere => ({ type, outcome, signer, date });

export const deliberationEvent = (
  payload: RecordDeliberationEvent['payload'],
  at: string,
  by: ActorRecord = segretario(payload.ente),
): RecordDeliberationEvent => ({
  type: 'convention.deliberation.record',
  // art. 49 TUEL: a deciding deliberation carries the parere tecnico (pass `pareri: []` to test its absence)
  payload:
    payload.pareri === undefined &&
    ['APPROVED', 'APPROVED_WITH_AMENDMENTS', 'REJECTED'].includes(payload.outcome)
      ? { ...payload, pareri: [parere('TECNICO', payload.date)] }
      : payload,
  actor: by,
  at,
});

/** an APPROVED deliberation of `text` (v1 by default), no immediate executivity */
export const approvedEvent = (
  ente: string,
  number: string,
  date: string,
  at: string,
  extra: Partial<RecordDeliberationEvent['payload']> = {},
): RecordDeliberationEvent =>
  deliberationEvent(
    {
      ente,
      number,
      date,
      outcome: 'APPROVED',
      textHash: sha256(SCHEMA_TEXT_V1),
      votes: votes(12, 17),
      ...extra,
    },
    at,
  );

/** APPROVED and declared immediatamente eseguibile with the majority of the members (art. 134 c.4 TUEL) */
export const approvedIeEvent = (
  ente: string,
  number: string,
  date: string,
  at: string,
  ie: Votes = votes(12, 17),
): RecordDeliberationEvent =>
  approvedEvent(ente, number, date, at, { immediatamenteEseguibile: true, ieVotes: ie });

/** APPROVED_WITH_AMENDMENTS: the council approved `text` (SCHEMA_TEXT_V2 by default) instead of the frozen one */
export const amendedEvent = (
  ente: string,
  number: string,
  date: string,
  at: string,
  extra: Partial<RecordDeliberationEvent['payload']> = {},
  text = SCHEMA_TEXT_V2,
): RecordDeliberationEvent =>
  deliberationEvent(
    {
      ente,
      number,
      date,
      outcome: 'APPROVED_WITH_AMENDMENTS',
      textHash: sha256(text),
      amendments: 'Art. 4: riparto delle spese in base alla popolazione residente al 1° gennaio',
      votes: votes(10, 11),
      ...extra,
    },
    at,
  );

export const conveneEvent = (
  ente: string,
  sessionDate: string,
  noticeDate: string,
  at: string,
): ConveneEvent => ({
  type: 'convention.council.convene',
  payload: { ente, sessionDate, noticeDate },
  actor: segretario(ente),
  at,
});

export const certifyEvent = (
  ente: string,
  publicationStart: string,
  executiveOn: string,
  at: string,
): CertifyExecutivityEvent => ({
  type: 'convention.executivity.certify',
  payload: { ente, publicationStart, executiveOn },
  actor: segretario(ente),
  at,
});

export const signEvent = (
  ente: string,
  signedAt: string,
  at: string,
  extra: Partial<SignEvent['payload']> = {},
): SignEvent => ({
  type: 'convention.sign',
  payload: { ente, signedAt, signatureType: 'FIRMA_DIGITALE', digitalSignature: true, ...extra },
  actor: signerOf(ente),
  at,
});

export const extendEvent = (
  days: number,
  at: string,
  ente?: string,
  reason = 'Consiglio convocato oltre il termine',
): ExtendDeadlineEvent => ({
  type: 'convention.deadline.extend',
  payload: ente === undefined ? { days, reason } : { ente, days, reason },
  actor: PRESIDENTE,
  at,
});

export const abandonEvent = (reason: string, at: string, by = PRESIDENTE): AbandonEvent => ({
  type: 'convention.abandon',
  payload: { reason },
  actor: by,
  at,
});

export const amendmentAcceptEvent = (
  at: string,
  text = SCHEMA_TEXT_V2,
  by = GRUPPO_LAVORO,
): AmendmentAcceptEvent => ({
  type: 'convention.amendment.accept',
  payload: { text },
  actor: by,
  at,
});

export const amendmentRefuseEvent = (
  at: string,
  reason = 'Il riparto per popolazione non è condiviso dagli altri consigli',
  by = GRUPPO_LAVORO,
): AmendmentRefuseEvent => ({
  type: 'convention.amendment.refuse',
  payload: { reason },
  actor: by,
  at,
});

/** amendment of a convention already in force (presidente, staff or working group) */
export const amendmentOpenEvent = (
  at: string,
  text = SCHEMA_TEXT_V2,
  by = STAFF,
): AmendmentOpenEvent => ({
  type: 'convention.amendment.open',
  payload: { text },
  actor: by,
  at,
});

/** late adhesion: the engine resolves `ente` from the registry and passes its facts as `enteFacts` */
export const adhesionOpenEvent = (
  facts: EnteFacts | undefined,
  at: string,
  ente = facts?.codiceIpa ?? CHIANNI,
  by = PRESIDENTE,
): AdhesionOpenEvent => ({
  type: 'convention.adhesion.open',
  payload: facts === undefined ? { ente } : { ente, enteFacts: facts },
  actor: by,
  at,
});

/** the Giunta dell'Unione accepts the adhesion (deliberation number and date) */
export const adhesionAcceptEvent = (
  ente: string,
  number: string,
  date: string,
  at: string,
  by = PRESIDENTE,
): AdhesionAcceptEvent => ({
  type: 'convention.adhesion.accept',
  payload: { ente, number, date },
  actor: by,
  at,
});

export const recessoEvent = (
  ente: string,
  number: string,
  date: string,
  effectiveDate: string,
  at: string,
): RecessoEvent => ({
  type: 'convention.recesso.record',
  payload: { ente, number, date, effectiveDate },
  actor: segretario(ente),
  at,
});

export const recessoEffectiveEvent = (
  ente: string,
  date: string,
  at: string,
): RecessoEffectiveEvent => ({
  type: 'convention.recesso.effective',
  payload: { ente, date },
  actor: SYSTEM,
  at,
});

export const renewalEvent = (
  ente: string,
  number: string,
  date: string,
  at: string,
): CollectiveActEvent => ({
  type: 'convention.renewal.record',
  payload: { ente, number, date },
  actor: segretario(ente),
  at,
});

export const dissolutionEvent = (
  ente: string,
  number: string,
  date: string,
  at: string,
): CollectiveActEvent => ({
  type: 'convention.dissolution.record',
  payload: { ente, number, date },
  actor: segretario(ente),
  at,
});

/** the expiry timer of a convention in force (`date` = the day after the last day of the term) */
export const expiryEvent = (date: string, at: string): ExpireEvent => ({
  type: 'convention.expire',
  payload: { date },
  actor: SYSTEM,
  at,
});

export const reminderEvent = (ente: string, daysBefore: number, at: string): ReminderEvent => ({
  type: 'convention.reminder',
  payload: { ente, daysBefore },
  actor: SYSTEM,
  at,
});

export const expireEvent = (ente: string, dueAt: string, at: string): DeadlineExpireEvent => ({
  type: 'convention.deadline.expire',
  payload: { ente, dueAt },
  actor: SYSTEM,
  at,
});

export const decorrenzaEvent = (date: string, at: string): DecorrenzaEvent => ({
  type: 'convention.decorrenza.reach',
  payload: { date },
  actor: SYSTEM,
  at,
});
