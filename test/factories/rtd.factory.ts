/**
 * Fixtures for the RTD machine (libs/workflows/src/rtd): the Unione Bassa Reggiana (DOMAIN.md §6.4, 8 comuni,
 * convention in force) and builders for the MachineEvents the engine hands to the machine. Pure data.
 */
import 'reflect-metadata';
import type { ActorRecord, Role } from '@app/common';
import {
  DEFAULT_RTD_POLICY,
  codiceFiscalePersonaCheckChar,
  type EnteFacts,
  type MachineEvent,
  type RtdInput,
  type RtdPolicy,
} from './rtd.factory.deps';

export const BASSA_REGGIANA = 'u_bassareg';
const comune = (codiceIpa: string, denominazione: string, popolazione: number): EnteFacts => ({
  codiceIpa,
  denominazione,
  kind: 'COMUNE',
  popolazione,
});
export const UNIONE_BASSA_REGGIANA: EnteFacts = {
  codiceIpa: BASSA_REGGIANA,
  denominazione: 'Unione dei Comuni Bassa Reggiana',
  kind: 'UNIONE',
  popolazione: 71_120,
};
export const BASSA_REGGIANA_COMUNI: readonly EnteFacts[] = [
  comune('c_a988', 'Boretto', 5_263),
  comune('c_b156', 'Brescello', 5_546),
  comune('c_e232', 'Gualtieri', 6_639),
  comune('c_e253', 'Guastalla', 14_786),
  comune('c_e772', 'Luzzara', 9_169),
  comune('c_f960', 'Novellara', 13_455),
  comune('c_g947', 'Poviglio', 7_045),
  comune('c_h225', 'Reggiolo', 9_217),
];
export const BR_ALL: readonly string[] = [
  BASSA_REGGIANA,
  ...BASSA_REGGIANA_COMUNI.map((c) => c.codiceIpa),
];

/** a valid person's codice fiscale from its first 15 characters */
export const cf = (first15: string): string => first15 + codiceFiscalePersonaCheckChar(first15);
export const CF_FIRST = cf('RSSMRA75C12E253'); // Mario Rossi, born in Guastalla
export const CF_SECOND = cf('BNCLRA80A41H223'); // Laura Bianchi

export const rtdInput = (
  policy: Partial<RtdPolicy> = {},
  opts: { members?: readonly EnteFacts[]; outsiders?: EnteFacts[] } = {},
): RtdInput => ({
  title: 'RTD associato Bassa Reggiana',
  unione: UNIONE_BASSA_REGGIANA,
  members: [...(opts.members ?? BASSA_REGGIANA_COMUNI)],
  policy: { ...DEFAULT_RTD_POLICY, ...policy },
  convention: { instanceId: '00000000-0000-4000-8000-000000000001', title: 'Convenzione ICT' },
  outsiders: opts.outsiders ?? [],
  since: '2026-01-01',
});

export const actor = (
  role: Role,
  ente: string | null = BASSA_REGGIANA,
  subject?: string,
): ActorRecord => ({
  subject: subject ?? `${role}.${ente ?? 'x'}`,
  role,
  ente,
});
export const PRESIDENTE = actor('presidente');
export const STAFF = actor('staff');

export const ev = <T extends string>(
  type: T,
  payload: Record<string, unknown>,
  at: string,
  by: ActorRecord = PRESIDENTE,
): MachineEvent<T> => ({ type, payload, actor: by, at });

export const candidatePayload = (over: Record<string, unknown> = {}) => ({
  name: 'Mario Rossi',
  codiceFiscale: CF_FIRST,
  pec: 'mario.rossi@pec.bassareggiana.invalid',
  email: 'm.rossi@bassareggiana.invalid',
  level: 'EQ',
  enteHasDirigenti: false,
  competences: { tecnologiche: true, giuridiche: true, manageriali: true },
  declarations: { inconferibilita: true, incompatibilita: true },
  incaricoEnd: '2028-12-31',
  ...over,
});

export const decreePayload = (
  over: Record<string, unknown> = {},
  entes: readonly string[] = BR_ALL,
) => ({
  act: { type: 'DECRETO', number: '3', date: '2026-01-20' },
  startDate: '2026-02-01',
  durationMonths: 24,
  entes: [...entes],
  referenti: entes
    .filter((e) => e.startsWith('c_'))
    .map((e) => ({ ente: e, name: `Referente ${e}`, email: `ref.${e}@comune.invalid` })),
  ...over,
});

export const ALL_DECLARATIONS = { declarations: { inconferibilita: true, incompatibilita: true } };
