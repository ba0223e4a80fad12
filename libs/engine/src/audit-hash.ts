import { canonicalJson, canonicalJsonV1, sha256Hex } from '@app/common';

export const GENESIS_HASH = '0'.repeat(64);

/**
 * Hash formats of process_event (column `hash_version`):
 * - 1: the first format. Canonical JSON that lost `__proto__` keys; `recorded_at`, `idempotency_key`,
 *      `request_hash` and `timer_id` not covered. Still verified, never written.
 * - 2: RFC 8785 canonical JSON of every column of the event (all of version 1's plus `recordedAt`,
 *      `idempotencyKey`, `requestHash`, `timerId`). Written for every new event.
 */
export const HASH_VERSIONS = [1, 2] as const;
export type HashVersion = (typeof HASH_VERSIONS)[number];
export const CURRENT_HASH_VERSION: HashVersion = 2;

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
  snapshotAfter: unknown;
  /** format 2: when the database recorded the event (ISO instant, millisecond precision) */
  recordedAt: string;
  idempotencyKey: string | null;
  requestHash: string | null;
  timerId: string | null;
}

/** hash = sha256(prev_hash + "\n" + canonical JSON of the event, snapshot after it included). */
export function eventHash(
  prevHash: string,
  e: HashedEventFields,
  version: HashVersion = CURRENT_HASH_VERSION,
): string {
  const v1 = {
    instanceId: e.instanceId,
    seq: e.seq,
    type: e.type,
    payload: e.payload,
    actor: e.actor,
    occurredAt: e.occurredAt,
    stateBefore: e.stateBefore,
    stateAfter: e.stateAfter,
    versionAfter: e.versionAfter,
    snapshotAfter: e.snapshotAfter,
  };
  if (version === 1) return sha256Hex(`${prevHash}\n${canonicalJsonV1(v1)}`);
  return sha256Hex(
    `${prevHash}\n${canonicalJson({
      ...v1,
      hashVersion: 2,
      recordedAt: e.recordedAt,
      idempotencyKey: e.idempotencyKey,
      requestHash: e.requestHash,
      timerId: e.timerId,
    })}`,
  );
}

/** The same chaining for the ente registry's audit chain (ente_event), format 2 only. */
export function registryEventHash(prevHash: string, e: Record<string, unknown>): string {
  return sha256Hex(`${prevHash}\n${canonicalJson({ ...e, hashVersion: 2 })}`);
}
