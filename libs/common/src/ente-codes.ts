/**
 * Syntactic validators for the identifiers of Italian public entes (DOMAIN.md §5).
 * Pure functions, no dependencies. They check the *format* only: a code that passes
 * may still not exist (always look codici IPA up, never trust a derived one blindly).
 */

const ISTAT_COMUNE = /^\d{6}$/;
const CATASTALE = /^[A-Z]\d{3}$/;
const CODICE_FISCALE_ENTE = /^\d{11}$/;
const CODICE_IPA = /^[a-z0-9_]{2,20}$/;
// local part: dot-separated atoms of the usual unquoted characters; domain: at least two
// labels of letters/digits/hyphens, not starting or ending with a hyphen, TLD alphabetic.
const PEC =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** Codice ISTAT of a comune: exactly 6 digits (3-digit province + 3-digit progressive), kept as a string. */
export function isCodiceIstatComune(s: string): boolean {
  return ISTAT_COMUNE.test(s);
}

/** Codice catastale (Belfiore): 1 uppercase letter + 3 digits, e.g. `G843`. */
export function isCodiceCatastale(s: string): boolean {
  return CATASTALE.test(s);
}

/**
 * Check digit of an ente's codice fiscale / partita IVA (Luhn-style):
 * digits in odd positions (1st, 3rd, …) are summed as they are, digits in even positions are doubled
 * (minus 9 when the double exceeds 9); check = (10 - sum % 10) % 10.
 * @throws RangeError when `first10` is not exactly 10 digits.
 */
export function codiceFiscaleCheckDigit(first10: string): number {
  if (!/^\d{10}$/.test(first10))
    throw new RangeError('codiceFiscaleCheckDigit expects exactly 10 digits');
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    const d = first10.charCodeAt(i) - 48;
    if (i % 2 === 0) {
      sum += d; // odd position (1-based)
    } else {
      const doubled = d * 2;
      sum += doubled > 9 ? doubled - 9 : doubled;
    }
  }
  return (10 - (sum % 10)) % 10;
}

/** Codice fiscale of an ente: 11 digits whose last one is the partita-IVA style check digit. */
export function isCodiceFiscaleEnte(s: string): boolean {
  if (!CODICE_FISCALE_ENTE.test(s)) return false;
  return codiceFiscaleCheckDigit(s.slice(0, 10)) === s.charCodeAt(10) - 48;
}

/** Codice IPA: lowercase letters, digits and underscore, 2 to 20 characters (e.g. `c_g843`, `uvaldera`). */
export function isCodiceIpa(s: string): boolean {
  return CODICE_IPA.test(s);
}

/**
 * The conventional codice IPA of a comune: `c_` + lowercase Belfiore (e.g. G843 → `c_g843`).
 * It is only a convention: check it against IPA before relying on it.
 * @throws RangeError when `codiceCatastale` is not a valid Belfiore code.
 */
export function derivedCodiceIpaComune(codiceCatastale: string): string {
  if (!isCodiceCatastale(codiceCatastale)) {
    throw new RangeError(`not a codice catastale: ${JSON.stringify(codiceCatastale)}`);
  }
  return `c_${codiceCatastale.toLowerCase()}`;
}

/** A plausible e-mail address (PEC addresses are ordinary addresses syntactically). Max 254 characters. */
export function isPec(s: string): boolean {
  if (s.length > 254) return false;
  const at = s.lastIndexOf('@');
  if (at < 1 || at > 64) return false; // local part 1..64 characters
  return PEC.test(s);
}
