import { ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * For a single nested payload object, next to `@ValidateNested()`: that one validates each element of an array
 * and so lets `[]` through (found by the fuzz test: an RTD candidate with `competences: []` was recorded).
 * `@IsObject()` would do, but it writes `type` beside the `$ref` of the generated JSON schema (an OpenAPI
 * warning); this one leaves the schema as it is.
 */
export const IsPlainObject = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isPlainObject',
      validator: {
        validate: (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v),
        defaultMessage: (args) => `${args?.property ?? 'value'} must be an object`,
      },
    },
    options,
  );
