import { applyPatch, compare, type Operation } from 'fast-json-patch';
import { canonicalJson } from '@app/common';

/**
 * What an event of hash format 3 stores of the snapshot after it (docs/architecture.md, "The audit log"):
 * the canonical JSON text (RFC 8785) of the whole snapshot at the first event and then every
 * FULL_SNAPSHOT_EVERY events, and otherwise of an RFC 6902 JSON patch from the previous event's snapshot
 * (fast-json-patch computes and applies it). The text is stored as written and hashed as stored.
 * The snapshot after event n is the nearest whole snapshot at or before n with the patches after it applied:
 * at most FULL_SNAPSHOT_EVERY - 1 of them.
 */
export const FULL_SNAPSHOT_EVERY = 32;

export interface SnapshotDelta {
  /** true: `text` is the whole snapshot; false: an RFC 6902 patch from the previous snapshot */
  full: boolean;
  text: string;
}

/** a patch that touches these keys is refused when applied (prototype pollution): such a step is stored whole */
const UNSAFE = /__proto__|\/prototype\b/;

export function isFullSnapshotSeq(seq: number): boolean {
  return (seq - 1) % FULL_SNAPSHOT_EVERY === 0;
}

/**
 * The delta of one step. `before` is the snapshot after the previous event (the instance's, read under the
 * row lock), undefined for the first event; `after` must be plain JSON (parsed, no undefined members).
 */
export function snapshotDelta(seq: number, before: unknown, after: unknown): SnapshotDelta {
  if (before === undefined || before === null || isFullSnapshotSeq(seq))
    return { full: true, text: canonicalJson(after) };
  const text = canonicalJson(compare(before, after as object));
  if (UNSAFE.test(text)) return { full: true, text: canonicalJson(after) };
  return { full: false, text };
}

/** One row of the chain as far as the snapshot goes: formats 1 and 2 store it whole in snapshot_after. */
export interface SnapshotSource {
  snapshot_after?: unknown;
  snapshot_delta?: string | null;
  snapshot_full?: boolean | null;
}

/**
 * The snapshot after `row`, given the snapshot after the previous row (`current`, which a patch MUTATES:
 * pass a value the caller owns). Throws when the row cannot be applied (a patch with nothing before it, a
 * patch whose paths do not resolve, text that is not JSON).
 */
export function applyDelta(current: unknown, row: SnapshotSource): unknown {
  if (row.snapshot_delta === null || row.snapshot_delta === undefined) {
    if (row.snapshot_after === null || row.snapshot_after === undefined)
      throw new Error('the event stores no snapshot');
    return row.snapshot_after;
  }
  const parsed = JSON.parse(row.snapshot_delta) as unknown;
  if (row.snapshot_full) return parsed;
  if (current === undefined || current === null || typeof current !== 'object')
    throw new Error('a snapshot patch with no snapshot before it');
  if (!Array.isArray(parsed)) throw new Error('a snapshot patch that is not an array');
  return applyPatch(current, parsed as Operation[], true, true, true).newDocument;
}

/** the snapshot after the last of `rows` (in seq order, the first of them a whole snapshot) */
export function replaySnapshot(rows: readonly SnapshotSource[]): unknown {
  let current: unknown = undefined;
  for (const r of rows) current = applyDelta(current, r);
  return current;
}

/** the SQL condition of a row that stores its snapshot whole (any format) */
export const WHOLE_SNAPSHOT_SQL = '(snapshot_after IS NOT NULL OR snapshot_full)';

/**
 * The snapshot after event `seq` of an instance: the nearest whole snapshot at or before it, then the patches
 * after it, in one query. `run` is the caller's query function (its transaction, if it has one).
 */
export async function snapshotAtSeq(
  run: (sql: string, params: unknown[]) => Promise<unknown>,
  instanceId: string,
  seq: number,
): Promise<unknown> {
  const rows = (await run(
    `SELECT seq, snapshot_after, snapshot_delta, snapshot_full FROM process_event
      WHERE instance_id = $1 AND seq <= $2
        AND seq >= (SELECT max(seq) FROM process_event
                     WHERE instance_id = $1 AND seq <= $2 AND ${WHOLE_SNAPSHOT_SQL})
      ORDER BY seq`,
    [instanceId, seq],
  )) as (SnapshotSource & { seq: number })[];
  if (rows[rows.length - 1]?.seq !== seq) throw new Error(`event ${instanceId}/${seq} not found`);
  return replaySnapshot(rows);
}
