import { createHash } from 'node:crypto';
import { UNIONI_FIXTURES } from '@app/persistence';

/**
 * Examples for the OpenAPI document, taken from the fixtures (the Unione Valdera of DOMAIN.md §6.1 in
 * libs/persistence/src/seeds/unioni.fixture.ts, the texts and dates of test/factories/convention.factory.ts): one
 * consistent Valdera story, so a client reading the document sees real codes and plausible dates.
 * apps/api/test/openapi.e2e-spec.ts checks that every example passes the DTO the engine validates it with.
 */
const valdera = UNIONI_FIXTURES.find((u) => u.key === 'valdera')!;
const founders = valdera.comuni.filter((c) => !c.joinedLater);
const pontedera = valdera.comuni.find((c) => c.denominazione === 'Pontedera')!.codiceIpa;
const chianni = valdera.comuni.find((c) => c.joinedLater)?.codiceIpa ?? 'c_c609';

const TEXT =
  'SCHEMA DI CONVENZIONE PER LA GESTIONE IN FORMA ASSOCIATA DELLE FUNZIONI DI TRANSIZIONE AL DIGITALE\n' +
  'Art. 1 - Oggetto. Art. 2 - Ufficio per la transizione al digitale associato (art. 17 c.1-septies CAD).';
const AMENDED = `${TEXT}\nArt. 4 - Rapporti finanziari e riparto spese in base alla popolazione al 1° gennaio.`;
const sha256 = (t: string): string => createHash('sha256').update(t, 'utf8').digest('hex');
const votes = { favorevoli: 12, contrari: 0, astenuti: 0, presenti: 12, assegnati: 17 };
const parere = (type: 'TECNICO' | 'CONTABILE', signer: string) => ({
  type,
  outcome: 'FAVOREVOLE',
  signer,
  date: '2026-03-18',
});

export interface ApiExamples {
  /** per definition key: a start request */
  inputs: Record<string, { businessKey: string; input: Record<string, unknown> }>;
  /** per event type: a payload */
  events: Record<string, Record<string, unknown>>;
}

export const API_EXAMPLES: ApiExamples = {
  inputs: {
    convenzione: {
      businessKey: 'convenzione-ict-2026',
      input: {
        title:
          'Convenzione per la gestione associata della transizione digitale e del RTD (art. 17 CAD)',
        unione: valdera.codiceIpa,
        members: founders.map((c) => c.codiceIpa),
        policy: { approval: 'UNANIMITY', councilDeadlineDays: 60, reminderDaysBefore: [15, 7, 1] },
      },
    },
  },
  events: {
    'convention.freeze': { text: TEXT },
    'convention.send': { deliveredAt: '2026-03-02T09:30:00+01:00' },
    'convention.council.convene': {
      ente: pontedera,
      sessionDate: '2026-03-20',
      noticeDate: '2026-03-12',
    },
    'convention.deliberation.record': {
      ente: pontedera,
      number: '48',
      date: '2026-03-20',
      outcome: 'APPROVED',
      textHash: sha256(TEXT),
      pareri: [parere('TECNICO', 'Responsabile servizio ICT')],
      votes,
      immediatamenteEseguibile: true,
      ieVotes: votes,
    },
    'convention.executivity.certify': {
      ente: pontedera,
      publicationStart: '2026-03-23',
      executiveOn: '2026-04-03',
    },
    'convention.sign': {
      ente: pontedera,
      signedAt: '2026-04-10T11:00:00+02:00',
      signatureType: 'FIRMA_DIGITALE',
      digitalSignature: true,
    },
    'convention.amendment.accept': { text: AMENDED },
    'convention.amendment.refuse': {
      reason: 'Il riparto per popolazione non è condiviso dagli altri consigli',
    },
    'convention.amendment.open': { text: AMENDED },
    'convention.adhesion.open': { ente: chianni },
    'convention.adhesion.accept': { ente: chianni, number: '12', date: '2026-09-15' },
    'convention.recesso.record': {
      ente: pontedera,
      number: '77',
      date: '2027-05-10',
      effectiveDate: '2027-12-31',
    },
    'convention.renewal.record': { ente: pontedera, number: '31', date: '2031-02-20' },
    'convention.dissolution.record': { ente: pontedera, number: '35', date: '2031-03-02' },
    'convention.deadline.extend': {
      ente: pontedera,
      days: 30,
      reason: 'Consiglio convocato oltre il termine',
    },
    'convention.abandon': { reason: 'La Giunta dell’Unione ha ritirato lo schema' },
  },
};
