// eslint-disable-next-line no-restricted-imports -- the console bundles the committed contract
import openapi from '../../../../libs/api-client/openapi.json';
import type { JsonSchema } from './form-schema';
import {
  ENUM_LABELS,
  EVENT_LABELS,
  FIELD_LABELS,
  FIELD_LABELS_BY_EVENT,
  NESTED_FIELD_LABELS,
} from './labels';

/**
 * Everything a user reads is Italian: every event, payload field, enum value and state of the contract has an
 * Italian label, so no form or timeline falls back to the English-looking humanized code ("Rtd candidate
 * select", "Ente has dirigenti"). The states are checked by test/console/state-labels.spec.ts (it needs the machines).
 */
const schemas = (openapi as { components: { schemas: Record<string, JsonSchema> } }).components
  .schemas;
const deref = (s: JsonSchema | undefined): JsonSchema | undefined =>
  s?.$ref ? schemas[s.$ref.split('/').pop()!] : s;

const events = (deref(schemas['SendEventDto'])?.oneOf ?? []).map((r) => deref(r)!);
const fields: { event: string; name: string; parent?: string }[] = [];
const enums = new Set<string>();
function walk(s: JsonSchema | undefined, event: string, parent?: string, depth = 0): void {
  const x = deref(s);
  if (!x || depth > 5) return;
  x.enum?.forEach((v) => enums.add(String(v)));
  if (x.items) walk(x.items, event, parent, depth + 1);
  for (const [name, p] of Object.entries(x.properties ?? {})) {
    fields.push({ event, name, parent });
    walk(p, event, name, depth + 1);
  }
}
for (const e of events) walk(e.properties?.['payload'], String(e.properties?.['type']?.enum?.[0]));
// the rules a presidente may set when starting a convention (the start form)
walk(schemas['ConventionPolicyDto'], 'process.start');

describe('Italian labels for the whole contract', () => {
  it('finds the events of both definitions in the contract', () => {
    expect(events.length).toBeGreaterThan(25);
    expect(fields.length).toBeGreaterThan(50);
  });

  it('every event type', () => {
    const missing = events
      .map((e) => String(e.properties?.['type']?.enum?.[0]))
      .filter((t) => !EVENT_LABELS[t]);
    expect(missing).toEqual([]);
  });

  it('every payload field, nested ones included', () => {
    const missing = fields
      .filter(
        (f) =>
          !FIELD_LABELS[f.name] &&
          !FIELD_LABELS_BY_EVENT[f.event]?.[f.name] &&
          !NESTED_FIELD_LABELS[`${f.parent}.${f.name}`],
      )
      .map((f) => `${f.event}: ${f.parent ? `${f.parent}.` : ''}${f.name}`);
    expect([...new Set(missing)]).toEqual([]);
  });

  it('every enum value of a payload', () => {
    expect([...enums].filter((v) => !ENUM_LABELS[v])).toEqual([]);
  });
});
