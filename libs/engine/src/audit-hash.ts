import { canonicalJson, sha256Hex } from '@app/common';

export const GENESIS_HASH = '0'.repeat(64);

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
}

/** hash = sha256(prev_hash + "\n" + canonical JSON of the event, snapshot after it included). */
export function eventHash(prevHash: string, e: HashedEventFields): string {
  return sha256Hex(
    `${prevHash}\n${canonicalJson({
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
    })}`,
  );
}
