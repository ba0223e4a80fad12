import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DataSource, QueryRunner } from 'typeorm';
import { isoColumn } from '../iso-column';
import { DEFINITIONS, type DefinitionRegistry } from '@app/workflows';
import {
  chainAgainstCheckpoint,
  verifyRows,
  withCheckpoint,
  type ChainCheckpoint,
  type EventRow,
  type InstanceRow,
  type VerifyOptions,
  type VerifyResult,
} from '../process-query.service';

/**
 * Verification of many chains at disk speed (issue 15, "Verification"): chains are independent, so the main
 * thread reads them many at a time (one REPEATABLE READ transaction per batch of whole chains: the instance
 * rows and all their events, ordered by instance_id and seq, only the columns verifyRows reads) and hands
 * each batch to a small pool of worker threads, which run `verifyRows` on every chain, unchanged. The main
 * thread reads the next batches (on two connections) while the workers check the previous ones, and hands the
 * verdicts on in the order of the chains given, so a caller sees exactly what verifyChain one chain after the other would say.
 *
 * jsonb/json columns are read as text (`::text`) and parsed by the worker (the same JSON.parse node-postgres
 * would run on the main thread), so the main thread moves strings and the parsing is spread over the cores;
 * text columns (hash format 3's stored snapshot text, see audit-hash.ts) reach verifyRows as stored, byte
 * for byte. Columns are taken from the list below as far as the table has them, so a column added or dropped
 * by a migration needs only this list.
 *
 * The pool is a few lines of node:worker_threads rather than a pool library: the work is one long stream of
 * batches, in order, with back-pressure on the reader, and the worker must also start from TypeScript source
 * (jest, ts-node) where no pool library resolves the file for us.
 */
export interface ParallelVerifyOptions {
  /**
   * Worker threads checking chains: 0 checks them on the calling thread (still reading in batches).
   * Default: cores - 1 workers when the machine has at least AUTO_MIN_CORES cores and there are at least
   * AUTO_MIN_EVENTS events, else 0: starting workers costs more than it saves on a small database, and on a
   * 2-core machine the reading thread and Postgres already use both cores (format-3 chains, 50k events, load 2:
   * 2 workers 18.9k events/s vs 28.8k on the calling thread — docs/performance.md).
   */
  concurrency?: number;
  /** events per batch read and handed to a worker (whole chains: a longer chain makes a larger batch) */
  batchEvents?: number;
}

export const AUTO_MIN_EVENTS = 20_000;
export const AUTO_MIN_CORES = 4;

function defaultConcurrency(total: number): number {
  const cores = availableParallelism();
  return cores >= AUTO_MIN_CORES && total >= AUTO_MIN_EVENTS ? cores - 1 : 0;
}
const DEFAULT_BATCH_EVENTS = 2_000;
/** at most this many chains per batch, however short */
const MAX_BATCH_CHAINS = 500;

/** The event columns verifyRows reads (in this order), those the table has. */
const EVENT_COLUMNS = [
  'seq',
  'type',
  'payload',
  'actor_subject',
  'actor_role',
  'actor_ente',
  'occurred_at',
  'recorded_at',
  'state_before',
  'state_after',
  'version_after',
  'prev_hash',
  'hash',
  'hash_version',
  'snapshot_after',
  'snapshot_delta',
  'snapshot_full',
  'idempotency_key',
  'request_hash',
  'timer_id',
];
/** The instance columns verifyRows compares with the chain. */
const INSTANCE_COLUMNS = [
  'tenant',
  'definition_key',
  'definition_version',
  'last_seq',
  'last_hash',
  'version',
  'snapshot',
  'participants',
  'state_value',
  'status',
  'pending_entes',
  'title',
];

/** Which columns arrive as JSON text, to be parsed where the chain is checked. */
export interface JsonColumns {
  event: string[];
  instance: string[];
}

/** One chain as read: JSON columns still text (see JsonColumns). */
export interface ChainInput {
  instanceId: string;
  rows: Record<string, unknown>[];
  head: Record<string, unknown> | undefined;
}

/** What a worker is started with. */
export interface VerifyWorkerData {
  json: JsonColumns;
  /** 'default': the worker checks the instance columns against defaultRegistry(); null: no registry check */
  registry: 'default' | null;
}

export interface VerifyTask {
  id: number;
  chains: ChainInput[];
}

export type VerifyReply = { id: number; results: VerifyResult[] } | { id: number; error: string };

/** Parse the JSON text columns in place, then the per-chain check (the same on a worker and on this thread). */
export function verifyChainInput(
  chain: ChainInput,
  json: JsonColumns,
  registry: DefinitionRegistry | undefined,
): VerifyResult {
  for (const row of chain.rows) parseJson(row, json.event);
  if (chain.head) parseJson(chain.head, json.instance);
  return verifyRows(
    chain.instanceId,
    chain.rows as unknown as EventRow[],
    chain.head as unknown as InstanceRow | undefined,
    registry,
  );
}

function parseJson(row: Record<string, unknown>, columns: string[]): void {
  for (const c of columns) {
    const v = row[c];
    if (typeof v === 'string') row[c] = JSON.parse(v);
  }
}

/**
 * Verify the chains of `chains` (in this order; `last_seq` only sizes the batches) and call `each` with
 * every verdict, in the same order, checkpoint included as verifyChain does.
 */
export async function verifyChainsInBatches(
  ds: DataSource,
  chains: readonly { id: string; last_seq: number }[],
  opts: VerifyOptions & ParallelVerifyOptions,
  each: (instanceId: string, result: VerifyResult) => void,
): Promise<void> {
  if (!chains.length) return;
  const batchEvents = Math.max(1, opts.batchEvents ?? DEFAULT_BATCH_EVENTS);
  const batches = batchesOf(chains, batchEvents);
  const total = chains.reduce((n, c) => n + weight(c.last_seq), 0);
  // a worker rebuilds the registry itself: only the default one can be, any other is checked on this thread
  const registry = workerRegistry(opts.registry);
  let concurrency = Math.max(0, Math.floor(opts.concurrency ?? defaultConcurrency(total)));
  if (registry === undefined) concurrency = 0;
  const sql = await statements(ds);
  const pool = concurrency
    ? new VerifyPool(concurrency, { json: sql.json, registry: registry ?? null })
    : null;
  // with workers, two readers: Postgres' side of a read (detoasting, jsonb to text) then runs on two cores too
  const runners: QueryRunner[] = [];
  const readers = pool ? Math.min(2, batches.length) : 1;
  const queue: Promise<{ ids: string[]; cps: ChainCheckpoint[]; results: VerifyResult[] }>[] = [];
  try {
    for (let i = 0; i < readers; i++) {
      const qr = ds.createQueryRunner();
      runners.push(qr);
      await qr.connect();
    }
    // each reader reads its batches one after the other; a batch goes to the pool as soon as it is read
    const tails: Promise<unknown>[] = runners.map(() => Promise.resolve());
    for (const [n, ids] of batches.entries()) {
      const r = n % readers;
      const read = tails[r]!.then(() => readBatch(runners[r]!, ids, sql));
      tails[r] = read.catch(() => undefined);
      const done = read.then(async (chains) => {
        // the checkpoint needs the hashes only: taken here, before the rows leave for a worker
        const cps = chains.map((c) =>
          chainAgainstCheckpoint(c.instanceId, c.rows as { hash: string }[], opts.checkpoint),
        );
        const results = pool
          ? await pool.run(chains)
          : chains.map((c) => verifyChainInput(c, sql.json, opts.registry));
        return { ids, cps, results };
      });
      done.catch(() => undefined); // awaited in order below; never an unhandled rejection meanwhile
      queue.push(done);
      // back-pressure: a batch per worker being checked, one being read per reader, one waiting
      while (queue.length > (pool ? concurrency + readers : 0)) emit(await queue.shift()!);
    }
    while (queue.length) emit(await queue.shift()!);
  } finally {
    await Promise.allSettled(queue);
    for (const qr of runners) await qr.release();
    await pool?.close();
  }

  function emit(b: { ids: string[]; cps: ChainCheckpoint[]; results: VerifyResult[] }): void {
    b.results.forEach((r, i) => each(b.ids[i]!, withCheckpoint(r, b.cps[i]!)));
  }
}

const weight = (lastSeq: number) => Math.max(1, Number.isFinite(lastSeq) ? lastSeq : 1);

function batchesOf(
  chains: readonly { id: string; last_seq: number }[],
  events: number,
): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let n = 0;
  for (const c of chains) {
    cur.push(c.id);
    n += weight(c.last_seq);
    if (n >= events || cur.length >= MAX_BATCH_CHAINS) {
      out.push(cur);
      cur = [];
      n = 0;
    }
  }
  if (cur.length) out.push(cur);
  return out;
}

/** 'default' when `registry` holds exactly the deployed definitions; undefined when a worker cannot rebuild it. */
function workerRegistry(registry: DefinitionRegistry | undefined): 'default' | null | undefined {
  if (!registry) return null;
  const all = registry.all();
  return all.length === DEFINITIONS.length && all.every((d) => DEFINITIONS.includes(d))
    ? 'default'
    : undefined;
}

interface Statements {
  instances: string;
  events: string;
  json: JsonColumns;
}

async function statements(ds: DataSource): Promise<Statements> {
  const cols: { table_name: string; column_name: string; data_type: string }[] = await ds.query(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name IN ('process_event', 'process_instance')`,
  );
  const select = (table: string, wanted: string[], into: string[]) => {
    const types = new Map(
      cols.filter((c) => c.table_name === table).map((c) => [c.column_name, c.data_type]),
    );
    return wanted
      .filter((c) => types.has(c))
      .map((c) => {
        // instants as the ISO text the hash covers (Date.toISOString's form, milliseconds truncated as the
        // driver truncates them): no Date parsed and printed again per event
        if (types.get(c) === 'timestamp with time zone') return isoColumn(c);
        if (types.get(c) !== 'jsonb' && types.get(c) !== 'json') return c;
        into.push(c);
        return `${c}::text AS ${c}`;
      })
      .join(', ');
  };
  const json: JsonColumns = { event: [], instance: [] };
  return {
    instances: `SELECT id, ${select('process_instance', INSTANCE_COLUMNS, json.instance)}
                  FROM process_instance WHERE id = ANY($1::uuid[])`,
    events: `SELECT instance_id, ${select('process_event', EVENT_COLUMNS, json.event)}
               FROM process_event WHERE instance_id = ANY($1::uuid[]) ORDER BY instance_id, seq`,
    json,
  };
}

/** The instance rows and the events of `ids`, in one REPEATABLE READ transaction (a concurrent append is not tampering). */
async function readBatch(qr: QueryRunner, ids: string[], sql: Statements): Promise<ChainInput[]> {
  let heads: Record<string, unknown>[];
  let events: Record<string, unknown>[];
  await qr.startTransaction('REPEATABLE READ');
  try {
    heads = (await qr.query(sql.instances, [ids])) as Record<string, unknown>[];
    events = (await qr.query(sql.events, [ids])) as Record<string, unknown>[];
    await qr.commitTransaction();
  } catch (err) {
    await qr.rollbackTransaction().catch(() => undefined);
    throw err;
  }
  const byId = new Map<string, ChainInput>(
    ids.map((id) => [id, { instanceId: id, rows: [], head: undefined }]),
  );
  for (const h of heads) {
    const { id, ...head } = h;
    byId.get(id as string)!.head = head;
  }
  for (const e of events) {
    const { instance_id, ...row } = e;
    byId.get(instance_id as string)!.rows.push(row);
  }
  return ids.map((id) => byId.get(id)!);
}

/** A fixed set of worker threads, each checking the batches it is given in turn. */
class VerifyPool {
  private readonly slots: { worker: Worker; pending: number }[] = [];
  private readonly tasks = new Map<
    number,
    { slot: number; resolve: (r: VerifyResult[]) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;
  private failed: Error | null = null;
  private closing = false;

  constructor(size: number, data: VerifyWorkerData) {
    for (let i = 0; i < size; i++) {
      const worker = startWorker(data);
      worker.on('message', (m: VerifyReply) => this.reply(m));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(new Error(`a verify worker stopped (exit code ${code})`));
      });
      this.slots.push({ worker, pending: 0 });
    }
  }

  run(chains: ChainInput[]): Promise<VerifyResult[]> {
    if (this.failed) return Promise.reject(this.failed);
    let slot = 0;
    for (let i = 1; i < this.slots.length; i++)
      if (this.slots[i]!.pending < this.slots[slot]!.pending) slot = i;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.tasks.set(id, { slot, resolve, reject });
      this.slots[slot]!.pending++;
      this.slots[slot]!.worker.postMessage({ id, chains } satisfies VerifyTask);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private reply(m: VerifyReply): void {
    const task = this.tasks.get(m.id);
    if (!task) return;
    this.tasks.delete(m.id);
    this.slots[task.slot]!.pending--;
    if ('error' in m) task.reject(new Error(`verify worker: ${m.error}`));
    else task.resolve(m.results);
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const t of this.tasks.values()) t.reject(err);
    this.tasks.clear();
  }
}

/**
 * The worker file next to this one: compiled JavaScript when this runs built (dist), TypeScript source under
 * jest or ts-node, where the worker first registers ts-node (transpile only) and the @app/* path aliases.
 */
function startWorker(workerData: VerifyWorkerData): Worker {
  const ext = extname(__filename);
  const file = join(__dirname, `verify-worker${ext}`);
  if (ext !== '.ts') return new Worker(file, { workerData });
  let root = __dirname;
  while (!existsSync(join(root, 'tsconfig.json'))) {
    const up = dirname(root);
    if (up === root) throw new Error(`no tsconfig.json above ${__dirname}`);
    root = up;
  }
  const project = join(root, 'tsconfig.json');
  const { compilerOptions } = JSON.parse(readFileSync(project, 'utf8')) as {
    compilerOptions: { baseUrl?: string; paths?: Record<string, string[]> };
  };
  const code = `
    require(${JSON.stringify(require.resolve('ts-node'))}).register({ transpileOnly: true, project: ${JSON.stringify(project)} });
    require(${JSON.stringify(require.resolve('tsconfig-paths'))}).register({
      baseUrl: ${JSON.stringify(join(root, compilerOptions.baseUrl ?? '.'))},
      paths: ${JSON.stringify(compilerOptions.paths ?? {})},
    });
    require(${JSON.stringify(file)});`;
  // execArgv: [] so a parent started with `-r ts-node/register` does not register it twice
  return new Worker(code, { eval: true, workerData, execArgv: [] });
}
