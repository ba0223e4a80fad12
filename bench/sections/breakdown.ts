import type { AnyMachineSnapshot } from 'xstate';
import { canonicalJson, sha256Hex } from '@app/common';
import { buildView, eventHash, snapshotDelta, validatePayload } from '@app/engine';
import { acceptedEventTypes, pureTransition, type MachineEvent } from '@app/workflows';
import type { BenchContext } from '../lib/context';
import { nowMs, round } from '../lib/stats';
import { nextActNumber, romeToday, segretario, VALDERA } from '../lib/world';

/**
 * The CPU an Engine.dispatch spends outside the database, step by step, on a real snapshot (a convention with 8
 * entes, 8 council sessions in): the same library calls the engine makes, timed in a loop without I/O. It tells
 * where the engine's time goes when its rate is far from the ceiling's.
 */
export async function breakdownSection(ctx: BenchContext, templateId: string): Promise<void> {
  const { world, report, progress } = ctx;
  const def = world.registry.get('convenzione', 1);
  const rows: {
    snapshot: unknown;
    id: string;
    definition_key: string;
    definition_version: number;
    tenant: string;
    business_key: string;
    created_at: Date;
    updated_at: Date;
    state_value: string;
    last_hash: string;
    participants: string[];
  }[] = await world.ds.query(`SELECT * FROM process_instance WHERE id = $1`, [templateId]);
  const row = rows[0]!;
  const snapshotText = JSON.stringify(row.snapshot);
  const ente = VALDERA.members[3]!;
  const actor = segretario(ente);
  const spec = def.events['convention.deliberation.record']!;
  const date = romeToday();
  const payload = { ente, number: String(nextActNumber()), date, outcome: 'RINVIATA' };
  const n = ctx.quick ? 200 : 1000;

  const steps: [string, () => unknown][] = [];
  let current = def.machine.resolveState(JSON.parse(snapshotText) as never) as AnyMachineSnapshot;
  const event: MachineEvent = {
    type: 'convention.deliberation.record',
    payload,
    actor: { subject: actor.subject, role: 'segretario', ente },
    at: new Date().toISOString(),
  };
  let next = pureTransition(def.machine, current, event)[0];
  let persisted = def.machine.getPersistedSnapshot(next);
  steps.push([
    'pg: JSON.parse of the locked row (snapshot)',
    (): unknown[] => [JSON.parse(snapshotText) as unknown],
  ]);
  steps.push([
    'request hash (canonical JSON + sha256 of the request)',
    () => sha256Hex(canonicalJson({ type: event.type, payload, subject: actor.subject })),
  ]);
  steps.push([
    'restore the snapshot (machine.resolveState)',
    () => (current = def.machine.resolveState(row.snapshot as never) as AnyMachineSnapshot),
  ]);
  steps.push([
    'validate the payload (class-transformer + class-validator)',
    () => validatePayload(spec.payload, payload, 'payload'),
  ]);
  steps.push([
    'accepted events + domain rule',
    () => [acceptedEventTypes(current), spec.rule?.(current, event)],
  ]);
  steps.push([
    'XState transition (pureTransition, as the engine calls it)',
    () => (next = pureTransition(def.machine, current, event)[0]),
  ]);
  steps.push(['getPersistedSnapshot', () => (persisted = def.machine.getPersistedSnapshot(next))]);
  steps.push(['definition.timers(next) (diffed with the armed ones)', () => def.timers(next)]);
  steps.push([
    'status, label, title, pending entes, next deadline',
    () => [
      def.status(next),
      def.stateLabel(next),
      def.titleOf(next),
      def.pendingEntes(next),
      def.nextDeadline(next),
    ],
  ]);
  const before = JSON.parse(snapshotText) as unknown;
  let delta = snapshotDelta(10, before, JSON.parse(JSON.stringify(persisted)));
  steps.push([
    'snapshot patch (JSON round trip, fast-json-patch compare, canonical JSON)',
    () => (delta = snapshotDelta(10, before, JSON.parse(JSON.stringify(persisted)))),
  ]);
  steps.push([
    'audit hash (format 3: canonical JSON of the event, the stored patch text, sha256)',
    () =>
      eventHash(row.last_hash, {
        instanceId: row.id,
        seq: 10,
        type: event.type,
        payload,
        actor: event.actor,
        occurredAt: event.at,
        stateBefore: row.state_value,
        stateAfter: row.state_value,
        versionAfter: 10,
        snapshotDelta: delta.text,
        snapshotFull: delta.full,
        recordedAt: event.at,
        idempotencyKey: null,
        requestHash: null,
        timerId: null,
      }),
  ]);
  steps.push([
    'pg: JSON.stringify of the parameters (snapshot)',
    () => [JSON.stringify(persisted)],
  ]);
  steps.push([
    'buildView (the answer: view, allowed events, timers)',
    () => buildView(def, row, next, 10, actor, row.participants, new Date(), event.at),
  ]);

  const out: { step: string; us: number }[] = [];
  for (const [name, fn] of steps) {
    for (let i = 0; i < Math.min(50, n); i++) await fn(); // warm-up
    const t0 = nowMs();
    for (let i = 0; i < n; i++) await fn();
    out.push({ step: name, us: round(((nowMs() - t0) * 1000) / n, 1) });
    progress.set(`engine CPU breakdown: ${name}`);
  }
  const total = out.reduce((s, x) => s + x.us, 0);
  progress.log(`engine CPU per transition outside the database: ${round(total / 1000, 2)} ms`);
  for (const x of out) progress.log(`  ${String(x.us).padStart(8)} µs  ${x.step}`);
  report.add({
    section: '2 engine',
    name: 'CPU per dispatch outside the database',
    value: total / 1000,
    unit: 'ms',
    note: out
      .slice()
      .sort((a, b) => b.us - a.us)
      .slice(0, 3)
      .map((x) => `${x.step.split(' (')[0]} ${Math.round(x.us)} µs`)
      .join('; '),
  });
  report.detail('engineCpuBreakdownMicroseconds', out);
}
