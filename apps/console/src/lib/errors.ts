/** The API's errors ({ code, message, details }) → what the form shows: one message per field, in Italian. */
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

export const stripPayload = (field: string): string => field.replace(/^payload\./, '');

export function toFormErrors(e: ApiError): FormErrors {
  const fields: Record<string, string[]> = {};
  const rule = e.code === 'RULE_VIOLATION';
  for (const fe of fieldErrors(e.details)) {
    const key = stripPayload(fe.field);
    // a rule's message is already Italian and specific; class-validator's are translated
    const msgs = rule ? [e.message] : (fe.errors ?? []).map(translateValidation);
    (fields[key] ??= []).push(...msgs);
  }
  const label = ERROR_LABELS[e.code];
  let summary: string;
  if (e.code === 'VALIDATION_FAILED') summary = label ?? e.message;
  else if (e.code === 'VERSION_CONFLICT') summary = ERROR_LABELS['VERSION_CONFLICT']!;
  else if (rule) summary = e.message;
  else summary = label && label !== e.message ? `${label}. ${e.message}` : (label ?? e.message);
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
