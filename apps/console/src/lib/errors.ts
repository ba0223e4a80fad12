/** The API's errors ({ code, message, details }) → what the form shows: one message per field, in Italian. */
import { formatDate, formatInstant } from './dates';
import { ERROR_LABELS, translateValidation } from './labels';

export interface ApiError {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

export interface FormErrors {
  /** the summary shown above the form */
  summary: string;
  /** the stable code (shown small, useful when calling the help desk) */
  code: string;
  /** field path (without "payload.", list items as "pareri.0.date") → messages */
  fields: Record<string, string[]>;
}

interface FieldError {
  field: string;
  errors: string[];
}

function fieldErrors(details: unknown): FieldError[] {
  const f = (details as { fields?: unknown } | undefined)?.fields;
  return Array.isArray(f)
    ? f.filter(
        (x): x is FieldError =>
          typeof x === 'object' && x !== null && typeof (x as FieldError).field === 'string',
      )
    : [];
}

/**
 * The API's Italian messages name dates as ISO strings ("avviato il 2026-12-01T18:21:37.857Z", "fino al
 * 2029-11-30"): shown as a person reads them, instants in Rome time ("1 dicembre 2026, 19:21").
 */
export function italianDates(msg: string): string {
  return msg
    .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g, (iso) =>
      formatInstant(iso),
    )
    .replace(/\b(\d{4}-\d{2}-\d{2})\b(?!T)/g, (d) => formatDate(d));
}

/** what a page shows for a failed request: the Italian label of the code, or the API's message with readable dates */
export function failureText(e: ApiError): string {
  if (e.code === 'VALIDATION_FAILED' || e.code === 'NETWORK' || e.code.startsWith('HTTP_'))
    return ERROR_LABELS[e.code] ?? 'Errore imprevisto';
  return italianDates(e.message);
}

export const stripPayload = (field: string): string => field.replace(/^payload\./, '');

export function toFormErrors(e: ApiError): FormErrors {
  const fields: Record<string, string[]> = {};
  const rule = e.code === 'RULE_VIOLATION';
  for (const fe of fieldErrors(e.details)) {
    const key = stripPayload(fe.field);
    // a rule's message is already Italian and specific; class-validator's are translated
    const msgs = rule ? [italianDates(e.message)] : (fe.errors ?? []).map(translateValidation);
    (fields[key] ??= []).push(...msgs);
  }
  const label = ERROR_LABELS[e.code];
  let summary: string;
  if (e.code === 'VALIDATION_FAILED') summary = label ?? e.message;
  else if (e.code === 'VERSION_CONFLICT') summary = ERROR_LABELS['VERSION_CONFLICT']!;
  else if (rule) summary = italianDates(e.message);
  else
    summary =
      label && label !== e.message
        ? `${label}. ${italianDates(e.message)}`
        : (label ?? italianDates(e.message));
  return { summary, code: e.code, fields };
}

/** a thrown value or a response body → ApiError */
export function asApiError(status: number, body: unknown): ApiError {
  const b = (body ?? {}) as Partial<ApiError>;
  return {
    status,
    code: typeof b.code === 'string' ? b.code : `HTTP_${status}`,
    message: typeof b.message === 'string' ? b.message : 'Errore imprevisto',
    details: b.details,
  };
}
