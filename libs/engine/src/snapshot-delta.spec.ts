import { canonicalJson } from '@app/common';
import { eventHash, eventHeaderV3, GENESIS_HASH } from './audit-hash';
import {
  applyDelta,
  FULL_SNAPSHOT_EVERY,
  replaySnapshot,
  snapshotDelta,
  type SnapshotSource,
} from './snapshot-delta';

const snap = (n: number) => ({
  status: 'active',
  value: { convention: n % 2 ? 'SENT' : 'DRAFT' },
  context: {
    title: 'Convenzione ICT',
    entes: [
      {
        codiceIpa: 'c_a',
        deadline: { dueAt: `2026-03-${10 + (n % 9)}T22:59:59.999Z`, extensions: n },
      },
      {
        codiceIpa: 'c_b',
        deadline: null,
        acts: Array.from({ length: n % 4 }, (_, i) => `${i}/2026`),
      },
    ],
    ...(n % 3 ? { note: `nota ${n}` } : {}),
  },
  children: {},
});

describe('snapshot deltas (hash format 3)', () => {
  it('stores the first snapshot and every FULL_SNAPSHOT_EVERY-th whole, patches between, and replays exactly', () => {
    const rows: SnapshotSource[] = [];
    let before: unknown = undefined;
    const fullAt: number[] = [];
    for (let seq = 1; seq <= 2 * FULL_SNAPSHOT_EVERY + 3; seq++) {
      const after = snap(seq);
      const d = snapshotDelta(seq, before, after);
      if (d.full) fullAt.push(seq);
      rows.push({ snapshot_delta: d.text, snapshot_full: d.full });
      // the stored text is canonical JSON: hashing it as stored is hashing the canonical form
      expect(canonicalJson(JSON.parse(d.text))).toBe(d.text);
      expect(canonicalJson(replaySnapshot(rows))).toBe(canonicalJson(after));
      before = after;
    }
    expect(fullAt).toEqual([1, 1 + FULL_SNAPSHOT_EVERY, 1 + 2 * FULL_SNAPSHOT_EVERY]);
  });

  it('patches on top of a whole snapshot of format 1 or 2 (a chain continued after the upgrade)', () => {
    const d = snapshotDelta(7, snap(6), snap(7));
    expect(d.full).toBe(false);
    const rebuilt = replaySnapshot([
      { snapshot_after: snap(6) },
      { snapshot_delta: d.text, snapshot_full: false },
    ]);
    expect(rebuilt).toEqual(snap(7));
  });

  it('stores a step whose patch would touch __proto__ whole (a patch there is refused when applied)', () => {
    const before = JSON.parse('{"context":{"a":1}}') as unknown;
    const after = JSON.parse('{"context":{"a":1,"__proto__":{"admin":true}}}') as unknown;
    const d = snapshotDelta(5, before, after);
    expect(d.full).toBe(true);
    const rebuilt = replaySnapshot([{ snapshot_delta: d.text, snapshot_full: true }]) as {
      context: Record<string, unknown>;
    };
    expect(Object.keys(rebuilt.context)).toContain('__proto__');
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
  });

  it('refuses a patch with nothing before it, one that does not apply, and one that is not an array', () => {
    const patch = snapshotDelta(2, snap(1), snap(2)).text;
    expect(() => applyDelta(undefined, { snapshot_delta: patch, snapshot_full: false })).toThrow(
      /no snapshot before it/,
    );
    expect(() =>
      applyDelta(snap(1), {
        snapshot_delta: '[{"op":"remove","path":"/nowhere/at/all"}]',
        snapshot_full: false,
      }),
    ).toThrow();
    expect(() => applyDelta(snap(1), { snapshot_delta: '{}', snapshot_full: false })).toThrow(
      /not an array/,
    );
    expect(() => applyDelta(snap(1), { snapshot_after: null, snapshot_delta: null })).toThrow(
      /stores no snapshot/,
    );
  });

  it('format 3 hashes the header line and then the stored text as it is: any change to either shows', () => {
    const fields = {
      instanceId: '00000000-0000-4000-8000-000000000001',
      seq: 2,
      type: 'convention.freeze',
      payload: { text: 'x' },
      actor: { subject: 's', role: 'staff', ente: 'u_x' },
      occurredAt: '2026-02-02T09:00:00.000Z',
      stateBefore: 'DRAFT',
      stateAfter: 'FROZEN',
      versionAfter: 2,
      recordedAt: '2026-02-02T09:00:00.001Z',
      idempotencyKey: null,
      requestHash: null,
      timerId: null,
      snapshotDelta: '[{"op":"replace","path":"/value","value":"FROZEN"}]',
      snapshotFull: false,
    };
    const h = eventHash(GENESIS_HASH, fields, 3);
    expect(eventHeaderV3(fields)).not.toContain('\n');
    expect(
      eventHash(GENESIS_HASH, { ...fields, snapshotDelta: `${fields.snapshotDelta} ` }, 3),
    ).not.toBe(h);
    expect(eventHash(GENESIS_HASH, { ...fields, snapshotFull: true }, 3)).not.toBe(h);
    expect(eventHash(GENESIS_HASH, { ...fields, payload: { text: 'y' } }, 3)).not.toBe(h);
    expect(() => eventHash(GENESIS_HASH, { ...fields, snapshotDelta: null }, 3)).toThrow(
      /format 3/,
    );
  });
});
