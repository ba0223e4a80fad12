/**
 * Forms generated from the contract: an event's payload JSON schema (OpenAPI components, generated from the
 * class-validator DTOs) → a list of field specs → the payload the API expects. Pure: no React, no DOM.
 */
import { fieldLabel } from './labels';
import { romeLocalToInstant } from './dates';

export interface JsonSchema {
  type?: string;
  $ref?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  description?: string;
}

export type FieldKind =
  | 'text'
  | 'textarea'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'enum'
  | 'date'
  | 'datetime'
  | 'ente'
  | 'object'
  | 'list'
  /** a list of codici IPA (the entes an RTD serves): one checkbox per ente */
  | 'enteList'
  /** a list of other strings: one per line */
  | 'lines';

export interface FieldSpec {
  name: string;
  /** dotted path as the API names it in its errors, without the "payload." prefix: "votes.favorevoli", "pareri.0.date" */
  path: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  enumValues?: string[];
  min?: number;
  max?: number;
  maxLength?: number;
  pattern?: string;
  /** object: its fields; list: the fields of one item */
  children?: FieldSpec[];
  maxItems?: number;
  /** lines: the items are integers (a list of days), sent as numbers */
  numericItems?: boolean;
}

/** array item schemas the generator could not name (class-validator-jsonschema writes "Array" for them) */
export const ITEM_HINTS: Record<string, string> = { pareri: 'ParereDto' };
const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';
const IPA_PATTERN = '^[a-z0-9_]{2,20}$';

const refName = (ref: string): string => ref.split('/').pop() ?? ref;

function resolve(
  s: JsonSchema | undefined,
  components: Record<string, JsonSchema>,
  hint?: string,
): JsonSchema | undefined {
  if (!s) return hint ? components[hint] : undefined;
  if (s.$ref) {
    const found = components[refName(s.$ref)];
    if (found && refName(s.$ref) !== 'Array') return found;
    return hint ? components[hint] : undefined;
  }
  if (s.allOf?.length === 1) return resolve(s.allOf[0], components, hint);
  return s;
}

function isInstant(s: JsonSchema): boolean {
  if (s.format === 'date-time') return true;
  const alts = s.oneOf ?? s.anyOf;
  return Boolean(alts?.some((a) => a.format === 'date-time'));
}

export function buildFields(
  schema: JsonSchema | undefined,
  components: Record<string, JsonSchema>,
  eventType?: string,
  prefix = '',
  depth = 0,
): FieldSpec[] {
  const s = resolve(schema, components);
  if (!s?.properties || depth > 4) return [];
  const required = new Set(s.required ?? []);
  return Object.entries(s.properties).map(([name, raw]) =>
    fieldOf(name, raw, required.has(name), components, eventType, prefix, depth),
  );
}

function fieldOf(
  name: string,
  raw: JsonSchema,
  required: boolean,
  components: Record<string, JsonSchema>,
  eventType: string | undefined,
  prefix: string,
  depth: number,
): FieldSpec {
  const path = prefix ? `${prefix}.${name}` : name;
  const parent = prefix
    ? prefix
        .split('.')
        .filter((x) => x !== '#')
        .pop()
    : undefined;
  const base = { name, path, label: fieldLabel(name, eventType, parent), required };
  const s = resolve(raw, components) ?? raw;
  if (s.type === 'array') {
    const item = resolve(s.items, components, ITEM_HINTS[name]);
    if (item?.properties) {
      return {
        ...base,
        kind: 'list',
        maxItems: s.maxItems,
        children: buildFields(item, components, eventType, `${path}.#`, depth + 1),
      };
    }
    if (item?.pattern === IPA_PATTERN) return { ...base, kind: 'enteList', maxItems: s.maxItems };
    return {
      ...base,
      kind: 'lines',
      maxItems: s.maxItems,
      numericItems: item?.type === 'integer' || item?.type === 'number',
    };
  }
  if (s.properties) {
    return {
      ...base,
      kind: 'object',
      children: buildFields(s, components, eventType, path, depth + 1),
    };
  }
  if (s.enum) return { ...base, kind: 'enum', enumValues: s.enum.map(String) };
  if (s.type === 'boolean') return { ...base, kind: 'boolean' };
  if (s.type === 'integer' || s.type === 'number')
    return { ...base, kind: s.type, min: s.minimum, max: s.maximum };
  if (s.pattern === DATE_PATTERN || s.format === 'date') return { ...base, kind: 'date' };
  if (isInstant(s)) return { ...base, kind: 'datetime' };
  if (name === 'ente' || s.pattern === IPA_PATTERN) return { ...base, kind: 'ente' };
  if (name === 'text' || name === 'amendments' || (s.maxLength ?? 0) > 2000)
    return { ...base, kind: 'textarea', maxLength: s.maxLength };
  return { ...base, kind: 'text', maxLength: s.maxLength, pattern: s.pattern };
}

/** a list field's value (enteList, lines): one item per line (numbers also by commas or spaces) → the items, blanks dropped */
export const splitItems = (v: string, numeric = false): string[] =>
  v
    .split(numeric ? /[\n,;\s]+/ : '\n')
    .map((x) => x.trim())
    .filter((x) => x !== '');

export type FormValue = string | boolean | FormValues | FormValues[];
export interface FormValues {
  [name: string]: FormValue;
}

/** initial values: empty strings, unchecked boxes, no list items; `defaults` may fill top-level fields */
export function initialValues(
  fields: FieldSpec[],
  defaults: Record<string, FormValue> = {},
): FormValues {
  const out: FormValues = {};
  for (const f of fields) {
    if (f.name in defaults) out[f.name] = defaults[f.name]!;
    else if (f.kind === 'boolean') out[f.name] = false;
    else if (f.kind === 'object') out[f.name] = initialValues(f.children ?? []);
    else if (f.kind === 'list') out[f.name] = [];
    else out[f.name] = '';
  }
  return out;
}

function hasAnyValue(v: FormValue): boolean {
  if (typeof v === 'string') return v.trim() !== '';
  if (typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.length > 0;
  return Object.values(v).some(hasAnyValue);
}

/**
 * Values → payload: numbers as numbers, Rome local date-times as instants with their offset, dates as typed
 * (YYYY-MM-DD, untouched), empty optional fields and optional sub-objects left out. A required field left
 * empty is sent as missing, so the API names it.
 */
export function toPayload(fields: FieldSpec[], values: FormValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = values[f.name];
    if (v === undefined) continue;
    switch (f.kind) {
      case 'boolean':
        if (v === true || f.required) out[f.name] = v === true;
        break;
      case 'object':
        if (typeof v === 'object' && !Array.isArray(v) && (f.required || hasAnyValue(v)))
          out[f.name] = toPayload(f.children ?? [], v);
        break;
      case 'list':
        if (Array.isArray(v) && (f.required || v.length > 0))
          out[f.name] = v.map((item) => toPayload(f.children ?? [], item));
        break;
      case 'enteList':
      case 'lines': {
        // kept as one string, an item per line: sent as a list (a required one even when empty, so the API names it)
        const items = typeof v === 'string' ? splitItems(v, f.numericItems) : [];
        if (items.length > 0 || f.required)
          out[f.name] = f.numericItems ? items.map(Number) : items;
        break;
      }
      case 'integer':
      case 'number': {
        const s = typeof v === 'string' ? v.trim() : '';
        if (s !== '') out[f.name] = Number(s.replace(',', '.'));
        break;
      }
      case 'datetime': {
        const s = typeof v === 'string' ? v.trim() : '';
        if (s !== '')
          out[f.name] = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(s) ? romeLocalToInstant(s) : s;
        break;
      }
      default: {
        const s = typeof v === 'string' ? v.trim() : '';
        if (s !== '') out[f.name] = s;
      }
    }
  }
  return out;
}
