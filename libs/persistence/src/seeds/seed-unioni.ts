import type { DataSource } from 'typeorm';
import {
  isCodiceCatastale,
  isCodiceFiscaleEnte,
  isCodiceIpa,
  isCodiceIstatComune,
  isPec,
  ValidationFailedError,
  type FieldError,
} from '@app/common';
import { EnteRepository } from '../ente.repository';
import { POPULATION_REFERENCE, UNIONI_FIXTURES, type UnioneFixture } from './unioni.fixture';

export interface EnteInput {
  kind: 'COMUNE' | 'UNIONE';
  denominazione: string;
  codiceIpa: string;
  codiceIstat?: string | null;
  codiceCatastale?: string | null;
  codiceFiscale?: string | null;
  pec?: string | null;
}

/** Validate an ente's codes; refuses with the offending fields named (DOMAIN.md §5). */
export function validateEnte(e: EnteInput, path = ''): void {
  const errors: FieldError[] = [];
  const bad = (field: string, msg: string) =>
    errors.push({ field: `${path}${field}`, errors: [msg] });
  if (!e.denominazione.trim()) bad('denominazione', 'must not be empty');
  if (!isCodiceIpa(e.codiceIpa)) bad('codiceIpa', 'must be a codice IPA');
  if (e.kind === 'COMUNE' && (!e.codiceIstat || !isCodiceIstatComune(e.codiceIstat)))
    bad('codiceIstat', 'must be a 6-digit codice ISTAT');
  if (e.kind === 'UNIONE' && e.codiceIstat) bad('codiceIstat', 'an unione has no codice ISTAT');
  if (e.codiceCatastale && !isCodiceCatastale(e.codiceCatastale))
    bad('codiceCatastale', 'must be a letter and 3 digits');
  if (e.codiceFiscale && !isCodiceFiscaleEnte(e.codiceFiscale))
    bad('codiceFiscale', 'wrong check digit or format');
  if (e.pec && !isPec(e.pec)) bad('pec', 'must be an e-mail address');
  if (errors.length) throw new ValidationFailedError(errors);
}

/** Load the unions of DOMAIN.md §6 (all, or the given keys) with their comuni. Idempotent. */
export async function seedUnioni(
  ds: DataSource,
  keys?: readonly string[],
): Promise<{ unioni: number; comuni: number }> {
  const selected: UnioneFixture[] = UNIONI_FIXTURES.filter(
    (u) => !keys || keys.length === 0 || keys.includes(u.key),
  );
  const repo = new EnteRepository(ds);
  let comuni = 0;
  for (const u of selected) {
    validateEnte({
      kind: 'UNIONE',
      denominazione: u.denominazione,
      codiceIpa: u.codiceIpa,
      pec: u.pec,
    });
    const unioneId = await repo.upsert({
      kind: 'UNIONE',
      denominazione: u.denominazione,
      codiceIpa: u.codiceIpa,
      codiceIstat: null,
      codiceCatastale: null,
      codiceFiscale: null,
      pec: u.pec,
      regione: u.regione,
      provincia: u.provincia,
      popolazione: u.comuni.filter((c) => !c.joinedLater).reduce((s, c) => s + c.popolazione, 0),
      unioneId: null,
      popolazioneRef: POPULATION_REFERENCE,
    });
    for (const c of u.comuni) {
      validateEnte({ kind: 'COMUNE', ...c });
      await repo.upsert({
        kind: 'COMUNE',
        denominazione: c.denominazione,
        codiceIpa: c.codiceIpa,
        codiceIstat: c.codiceIstat,
        codiceCatastale: c.codiceCatastale,
        codiceFiscale: null,
        pec: c.pec,
        regione: u.regione,
        provincia: u.provincia,
        popolazione: c.popolazione,
        unioneId,
        popolazioneRef: POPULATION_REFERENCE,
      });
      comuni++;
    }
  }
  return { unioni: selected.length, comuni };
}
