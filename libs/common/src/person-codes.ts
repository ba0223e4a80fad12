/**
 * The codice fiscale of a natural person (DM 23/12/1976): 16 characters, the last one a check character.
 * Pure, no dependencies; checks the format and the check character only (a code that passes may still not
 * belong to anyone). Omocodia (digits replaced by L M N P Q R S T U V) is accepted.
 */
const PERSON_CF =
  /^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/;

/** values of the characters in odd positions (1st, 3rd, …): digits map like the letters A..J */
const ODD = [
  1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

const indexOf = (c: string): number => {
  const code = c.charCodeAt(0);
  return code <= 57 ? code - 48 : code - 65; // '0'..'9' → 0..9, 'A'..'Z' → 0..25
};

/**
 * The check character of the first 15 characters of a person's codice fiscale.
 * @throws RangeError when `first15` is not 15 characters of A-Z 0-9.
 */
export function codiceFiscalePersonaCheckChar(first15: string): string {
  if (!/^[A-Z0-9]{15}$/.test(first15))
    throw new RangeError('codiceFiscalePersonaCheckChar expects 15 characters A-Z 0-9');
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const v = indexOf(first15[i]!);
    sum += i % 2 === 0 ? ODD[v]! : v; // i even = odd position (1-based)
  }
  return String.fromCharCode(65 + (sum % 26));
}

/** A natural person's codice fiscale: 16 uppercase characters in the legal pattern, check character right. */
export function isCodiceFiscalePersona(s: string): boolean {
  if (!PERSON_CF.test(s)) return false;
  return codiceFiscalePersonaCheckChar(s.slice(0, 15)) === s[15];
}
