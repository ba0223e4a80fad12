/**
 * Personal data that must never reach a log line (GDPR; docs/security.md "Logs"): a natural person's codice
 * fiscale, e-mail and PEC addresses (a PEC address is an e-mail address). Known fields are removed by pino's
 * `redact` paths (libs/runtime logging.ts); this masks the same data wherever else it appears: in a message, an
 * error's message or stack, a URL. Applied to every serialized line, so nothing written escapes it.
 */
const PERSON_CF =
  /\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b/gi;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
// percent-encoded '@' (%40) in a URL's query string
const EMAIL_ENCODED = /[A-Za-z0-9._%+-]+%40[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/gi;

export const MASKED_CF = '[codice-fiscale]';
export const MASKED_EMAIL = '[email]';

export function maskPersonalData(text: string): string {
  // fast path: no '@' and no run of 16 letters/digits means nothing to mask
  if (!text.includes('@') && !text.includes('%40') && !/[A-Za-z0-9]{16}/.test(text)) return text;
  return text
    .replace(EMAIL, MASKED_EMAIL)
    .replace(EMAIL_ENCODED, MASKED_EMAIL)
    .replace(PERSON_CF, MASKED_CF);
}
