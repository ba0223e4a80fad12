import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * Canonical JSON per RFC 8785 (JSON Canonicalization Scheme, JCS), by `canonicalize`, the implementation of
 * the RFC's author: object members sorted by their UTF-16 code units, no whitespace, numbers and strings
 * serialised as ECMAScript's JSON.stringify does, `undefined` members dropped, `toJSON` honoured (Dates
 * become ISO strings). NaN and ±Infinity are refused. Every own key is kept, `__proto__` included: the
 * serialiser builds text, never an intermediate object whose `__proto__` setter would swallow the key.
 * Used for the audit hash chain (hash format 2) and request hashes.
 */
export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new TypeError('value has no JSON form');
  return out;
}

/**
 * The canonical form of hash format 1 (events recorded before RFC 8785 was adopted): keys sorted, no
 * whitespace, `undefined` dropped, Dates as ISO strings. It rebuilt objects, so a `__proto__` key was lost
 * (assigning it set the prototype): kept only to verify old chains, never used for new events.
 */
export function canonicalJsonV1(value: unknown): string {
  return JSON.stringify(normalizeV1(value));
}

function normalizeV1(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new TypeError('non-finite number');
    return value;
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : normalizeV1(v)));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = normalizeV1(v);
  }
  return out;
}

export function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}
