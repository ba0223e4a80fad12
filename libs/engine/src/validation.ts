import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { ValidationFailedError, type FieldError } from '@app/common';
import type { PayloadClass } from '@app/workflows';

/** class-validator default messages that show a regular expression or a library term */
const PLAIN: Record<string, string> = {
  matches: 'does not have the expected format',
  isIso8601:
    'must be a date YYYY-MM-DD (a day in Rome) or a date-time ISO 8601 such as 2026-03-10T10:00:00+01:00 (Rome time without an offset)',
  isDateString: 'must be a date YYYY-MM-DD',
  isBoolean: 'must be true or false',
  isArray: 'must be a list',
  isInt: 'must be an integer',
  isString: 'must be a string',
  isNotEmpty: 'must not be empty',
  nestedValidation: 'must be an object',
  isObject: 'must be an object',
};

/**
 * What is wrong with one field, in plain words, instead of class-validator's templates ("ente must match
 * /^[a-z0-9_]{2,20}$/ regular expression", "deliveredAt must be a valid ISO 8601 date string"):
 * - a missing required field says `required` (and nothing else);
 * - messages set by the DTO (`must be a date YYYY-MM-DD not after today in Rome`) are kept as they are;
 * - class-validator's own templates (they start with the property name) lose the property name, the field
 *   is named beside them, and the few that show a regular expression or a library term are rewritten.
 */
export function plainFieldErrors(
  e: Pick<ValidationError, 'property' | 'value' | 'constraints'>,
  field: string,
): string[] {
  const constraints = e.constraints ?? {};
  if ('whitelistValidation' in constraints) return [`unknown field: ${field}`];
  if (e.value === undefined || e.value === null) return ['required'];
  const out: string[] = [];
  for (const [key, message] of Object.entries(constraints)) {
    // a failed format check makes the calendar check redundant: one message per field
    if ((key === 'isDateString' || key === 'isIso8601') && 'matches' in constraints) continue;
    const template = message.startsWith(`${e.property} `);
    const text = !template
      ? message
      : (PLAIN[key] ?? message.slice(e.property.length + 1).replace(/^should not/, 'must not'));
    if (!out.includes(text)) out.push(text);
  }
  return out;
}

function flatten(errors: ValidationError[], prefix: string): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) out.push({ field, errors: plainFieldErrors(e, field) });
    if (e.children?.length) out.push(...flatten(e.children, field));
  }
  return out;
}

/**
 * Validate a plain object against a class-validator DTO: unknown fields are refused, not ignored.
 * Throws ValidationFailedError naming every offending field under `prefix`.
 */
export async function validatePayload(
  cls: PayloadClass | undefined,
  value: unknown,
  prefix: string,
): Promise<void> {
  if (
    value !== undefined &&
    value !== null &&
    (typeof value !== 'object' || Array.isArray(value))
  ) {
    throw new ValidationFailedError([{ field: prefix, errors: [`${prefix} must be an object`] }]);
  }
  const plain = (value ?? {}) as Record<string, unknown>;
  if (!cls) {
    if (Object.keys(plain).length > 0) {
      throw new ValidationFailedError(
        Object.keys(plain).map((k) => ({
          field: `${prefix}.${k}`,
          errors: [`unknown field: ${prefix}.${k}`],
        })),
      );
    }
    return;
  }
  const instance = plainToInstance(cls, plain);
  const errors = await validate(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
  });
  if (errors.length > 0) throw new ValidationFailedError(flatten(errors, prefix));
}
