/**
 * Fixtures for the convention machine (libs/workflows/src/convention): the Unione Valdera scenario of
 * DOMAIN.md §6.1 (7 comuni, ISTAT 2011 population) and builders for the MachineEvents the engine would
 * hand to the machine (`{ type, payload, actor, at }`, `at` as the engine's `toISOString()` instant).
 * Pure data: no Nest, no database, no clock.
 */
// @app/workflows loads the payload DTOs, whose class-transformer decorators need the Reflect polyfill
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import type { ActorRecord, Role } from '@app/common';
import {
  DEFAULT_POLICY,
  type AbandonEvent,
  type CertifyExecutivityEvent,
  type ConventionInput,
  type ConventionPolicy,
  type DeadlineExpireEvent,
  type DecorrenzaEvent,
  type EnteFacts,
  type ExtendDeadlineEvent,
  type FreezeEvent,
  type RecordDeliberationEvent,
  type ReminderEvent,
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

export function conventionInput(
  overrides: Partial<Omit<ConventionInput, 'policy'>> & { policy?: Partial<ConventionPolicy> } = {},
): ConventionInput {
  const { policy, ...rest } = overrides;
  return {
    title: 'Convenzione per la gestione associata della transizione digitale e del RTD (art. 17 CAD)',
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

export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

// ---------------------------------------------------------------- actors

export const actor = (role: Role, ente: string | null, subject = `${role}@${ente ?? 'iter'}`): ActorRecord => ({
  subject,
  role,
  ente,
});
export const PRESIDENTE = actor('presidente', VALDERA, 'presidente.valdera');
export const STAFF = actor('staff', VALDERA, 'staff.valdera');
export const SYSTEM = actor('system', null, 'system');
export const segretario = (ente: string): ActorRecord => actor('segretario', ente);
export const sindaco = (ente: string): ActorRecord => actor('sindaco', ente);
/** who signs for an ente: the Presidente for the Unione, the sindaco for a comune */
export const signerOf = (ente: string): ActorRecord => (ente === VALDERA ? PRESIDENTE : sindaco(ente));

// ---------------------------------------------------------------- votes

export const votes = (favorevoli: number, assegnati: number, extra: Partial<Votes> = {}): Votes => ({
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

export const sendEvent = (deliveredAt: string, at: string): SendEvent => ({
  type: 'convention.send',
  payload: { deliveredAt },
  actor: PRESIDENTE,
  at,
});

export const deliberationEvent = (
  payload: RecordDeliberationEvent['payload'],
  at: string,
  by: ActorRecord = segretario(payload.ente),
): RecordDeliberationEvent => ({ type: 'convention.deliberation.record', payload, actor: by, at });

/** an APPROVED deliberation of `text` (v1 by default), no immediate executivity */
export const approvedEvent = (
  ente: string,
  number: string,
  date: string,
  at: string,
  extra: Partial<RecordDeliberationEvent['payload']> = {},
): RecordDeliberationEvent =>
  deliberationEvent(
    { ente, number, date, outcome: 'APPROVED', textHash: sha256(SCHEMA_TEXT_V1), votes: votes(12, 17), ...extra },
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

export const certifyEvent = (ente: string, publicationStart: string, executiveOn: string, at: string): CertifyExecutivityEvent => ({
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

export const extendEvent = (days: number, at: string, ente?: string, reason = 'Consiglio convocato oltre il termine'): ExtendDeadlineEvent => ({
  type: 'convention.deadline.extend',
  payload: ente === undefined ? { days, reason } : { ente, days, reason },
  actor: PRESIDENTE,
  at,
});

export const abandonEvent = (reason: string, at: string): AbandonEvent => ({
  type: 'convention.abandon',
  payload: { reason },
  actor: PRESIDENTE,
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
