import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { ValidationFailedError, type FieldError } from '@app/common';
import type { PayloadClass } from '@app/workflows';

function flatten(errors: ValidationError[], prefix: string): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) {
      out.push({
        field,
        errors: Object.entries(e.constraints).map(([k, msg]) =>
          k === 'whitelistValidation' ? `unknown field: ${field}` : msg.replace(e.property, field),
        ),
      });
    }
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
