import { canonicalJson, canonicalJsonV1, sha256Hex } from '@app/common';

export const GENESIS_HASH = '0'.repeat(64);

/**
 * Hash formats of process_event (column `hash_version`):
 * - 1: the first format. Canonical JSON that lost `__proto__` keys; `recorded_at`, `idempotency_key`,
 *      `request_hash` and `timer_id` not covered. Still verified, never written.
 * - 2: RFC 8785 canonical JSON of every column of the event (all of version 1's plus `recordedAt`,
 *      `idempotencyKey`, `requestHash`, `timerId`). Still verified, no longer written.
 * - 3: the event stores the snapshot after it as text (`snapshot_delta`: the whole snapshot or an RFC 6902
 *      patch, see snapshot-delta.ts) instead of a jsonb copy of the whole snapshot. The hash covers
 *      `prev_hash`, a line of RFC 8785 canonical JSON of every other column (`snapshotFull` included,
 *      `snapshotAfter` left out) and then the stored text byte for byte: a verifier hashes the large part as
 *      read, without parsing and re-canonicalising it. Written for every new event.
 */
export const HASH_VERSIONS = [1, 2, 3] as const;
export type HashVersion = (typeof HASH_VERSIONS)[number];
export const CURRENT_HASH_VERSION: HashVersion = 3;

export interface HashedEventFields {
  instanceId: string;
  seq: number;
  type: string;
  payload: unknown;
  actor: { subject: string; role: string; ente: string | null };
  occurredAt: string;
  stateBefore: string | null;
  stateAfter: string;
  versionAfter: number;
  /** formats 1 and 2: the whole snapshot after the event (format 3: not covered, NULL in the table) */
  snapshotAfter?: unknown;
  /** format 3: the stored text of the snapshot after the event (whole, or a patch from the one before) */
  snapshotDelta?: string | null;
  /** format 3: whether `snapshotDelta` is the whole snapshot */
  snapshotFull?: boolean | null;
  /** format 2: when the database recorded the event (ISO instant, millisecond precision) */
  recordedAt: string;
  idempotencyKey: string | null;
  requestHash: string | null;
  timerId: string | null;
}

/**
 * Formats 1 and 2: hash = sha256(prev_hash + "\n" + canonical JSON of the event, snapshot after it included).
 * Format 3: hash = sha256(prev_hash + "\n" + canonical JSON of the event's other columns + "\n" + snapshot_delta).
 */
export function eventHash(
  prevHash: string,
  e: HashedEventFields,
  version: HashVersion = CURRENT_HASH_VERSION,
): string {
  const v1 = { ...stepColumns(e), snapshotAfter: e.snapshotAfter };
  if (version === 1) return sha256Hex(`${prevHash}\n${canonicalJsonV1(v1)}`);
  if (version === 3) {
    if (typeof e.snapshotDelta !== 'string' || typeof e.snapshotFull !== 'boolean')
      throw new Error('hash format 3 needs snapshotDelta and snapshotFull');
    return sha256Hex(`${prevHash}\n${eventHeaderV3(e)}\n${e.snapshotDelta}`);
  }
  return sha256Hex(`${prevHash}\n${canonicalJson({ ...v1, hashVersion: 2, ...recordColumns(e) })}`);
}

/** Format 3's line of canonical JSON: every hashed column but the snapshot text, which follows it. */
export function eventHeaderV3(e: HashedEventFields): string {
  return canonicalJson({
    hashVersion: 3,
    ...stepColumns(e),
    ...recordColumns(e),
    snapshotFull: e.snapshotFull,
  });
}

/** The step itself, hashed by every format. */
function stepColumns(e: HashedEventFields) {
  return {
    instanceId: e.instanceId,
    seq: e.seq,
    type: e.type,
    payload: e.payload,
    actor: e.actor,
    occurredAt: e.occurredAt,
    stateBefore: e.stateBefore,
    stateAfter: e.stateAfter,
    versionAfter: e.versionAfter,
  };
}

/** How the step was recorded: hashed since format 2. */
function recordColumns(e: HashedEventFields) {
  return {
    recordedAt: e.recordedAt,
    idempotencyKey: e.idempotencyKey,
    requestHash: e.requestHash,
    timerId: e.timerId,
  };
}

/** The same chaining for the ente registry's audit chain (ente_event), format 2 only. */
export function registryEventHash(prevHash: string, e: Record<string, unknown>): string {
  return sha256Hex(`${prevHash}\n${canonicalJson({ ...e, hashVersion: 2 })}`);
}
