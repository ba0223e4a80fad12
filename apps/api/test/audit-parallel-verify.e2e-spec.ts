import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import {
  checkpointConfigFrom,
  loadCheckpoint,
  verifyAllChains,
  verifyChain,
  writeCheckpointNow,
  type VerifyOptions,
  type VerifyResult,
} from '@app/engine';
import { DefinitionRegistry, defaultRegistry, DEFINITIONS } from '@app/workflows';
import { startHarness, type Harness } from '../../../test/support/harness';
import { tamperAuditLog } from '../../../test/support/tamper';
import { Scenario, unione } from '../../../test/support/scenario';

/**
 * Issue 15, "Verification": verifyAllChains reads many chains per query and checks them in worker threads
 * (libs/engine/src/verify). Whatever the number of workers and the size of the batches, every chain gets the
 * verdict verifyChain gives it alone (valid, events, firstBadSeq, reason, lastHash, checkpoint), in the same
 * order: checked here on chains tampered with in every way the sequential verifier names, with the registry
 * and a checkpoint, from TypeScript source (jest: the workers register ts-node) and from compiled JavaScript
 * (as in dist: the workers load verify-worker.js).
 */
const v = unione('valdera');
const [X, Y] = v.comuni as [string, string, ...string[]];
let deliberations = 0;

describe('parallel verification gives the sequential verdicts (e2e)', () => {
  let h: Harness;
  const ids: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true });
  });
  afterAll(async () => h.close());

  const tamper = (sql: string, params: unknown[]) => tamperAuditLog(h.ds, sql, params);
  /** a process of 4 events: started, frozen, sent, one deliberation */
  async function fresh(): Promise<string> {
    const s = new Scenario(h, v.ipa, [X, Y]);
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    await s.approve(X, String(++deliberations), '2026-02-09');
    ids.push(s.id);
    return s.id;
  }
  const registry = defaultRegistry();
  const options = async (): Promise<VerifyOptions> => ({
    registry,
    checkpoint: await loadCheckpoint(checkpointConfigFrom(h.config)),
  });
  /** what verifyChain says of each instance, one after the other, oldest first (as verifyAllChains goes) */
  async function sequential(opts: VerifyOptions): Promise<[string, VerifyResult][]> {
    const rows: { id: string }[] = await h.ds.query(
      `SELECT id FROM process_instance ORDER BY created_at, id`,
    );
    const out: [string, VerifyResult][] = [];
    for (const { id } of rows) out.push([id, await verifyChain(h.ds, id, opts)]);
    return out;
  }

  it('builds chains tampered with in every way, and a checkpoint some of them no longer match', async () => {
    for (let i = 0; i < 16; i++) await fresh();
    const [
      payload,
      actor,
      time,
      gap,
      end,
      head,
      snapshot,
      tenant,
      proto,
      shorter,
      gone,
      empty,
      subMs,
      recorded,
    ] = ids.slice(1);
    await writeCheckpointNow(h.ds, checkpointConfigFrom(h.config), new Date(), { force: true });
    // after the checkpoint: one more valid chain the checkpoint does not know
    await fresh();
    await tamper(
      `UPDATE process_event SET payload = jsonb_set(payload, '{number}', '"99"') WHERE instance_id = $1 AND seq = 4`,
      [payload],
    );
    await tamper(
      `UPDATE process_event SET actor_subject = 'someone.else' WHERE instance_id = $1 AND seq = 2`,
      [actor],
    );
    await tamper(
      `UPDATE process_event SET occurred_at = occurred_at - interval '1 day' WHERE instance_id = $1 AND seq = 3`,
      [time],
    );
    await tamper(`DELETE FROM process_event WHERE instance_id = $1 AND seq = 3`, [gap]);
    await tamper(`DELETE FROM process_event WHERE instance_id = $1 AND seq >= 3`, [end]);
    await h.ds.query(`UPDATE process_instance SET last_hash = repeat('0', 64) WHERE id = $1`, [
      head,
    ]);
    await h.ds.query(
      `UPDATE process_instance SET snapshot = jsonb_set(snapshot, '{context,title}', '"Altro titolo"') WHERE id = $1`,
      [snapshot],
    );
    await h.ds.query(`UPDATE process_instance SET tenant = 'u_miracoli' WHERE id = $1`, [tenant]);
    await tamper(
      `UPDATE process_event SET payload = payload || '{"__proto__": {"x": 1}}'::jsonb WHERE instance_id = $1 AND seq = 1`,
      [proto],
    );
    // shorter than the checkpoint, the head moved back consistently: only the checkpoint shows it
    await tamper(`DELETE FROM process_event WHERE instance_id = $1 AND seq = 4`, [shorter]);
    await h.ds.query(
      `UPDATE process_instance p SET last_seq = 3, last_hash = e.hash, version = e.version_after,
              snapshot = COALESCE(e.snapshot_after, p.snapshot)
         FROM process_event e WHERE p.id = $1 AND e.instance_id = p.id AND e.seq = 3`,
      [shorter],
    );
    // instants are hashed to the millisecond (the batch reader prints them in SQL, the sequential one in JS):
    // microseconds added within the same millisecond change nothing, a millisecond more is tampering
    await tamper(
      `UPDATE process_event SET occurred_at = occurred_at + interval '999 microseconds' WHERE instance_id = $1 AND seq = 2`,
      [subMs],
    );
    await tamper(
      `UPDATE process_event SET recorded_at = recorded_at + interval '1 millisecond' WHERE instance_id = $1 AND seq = 2`,
      [recorded],
    );
    // a chain the checkpoint has and the database lost
    await tamper(`DELETE FROM process_event WHERE instance_id = $1`, [gone]);
    for (const t of ['act_registry', 'timer', 'outbox'])
      await h.ds.query(`DELETE FROM ${t} WHERE instance_id = $1`, [gone]);
    await h.ds.query(`DELETE FROM process_instance WHERE id = $1`, [gone]);
    // every event of an instance removed, the instance row kept
    await tamper(`DELETE FROM process_event WHERE instance_id = $1`, [empty]);

    const expected = await sequential(await options());
    const invalid = expected.filter(([, r]) => !r.valid).map(([id]) => id);
    // every tampered chain but the one within the millisecond, and the one gone from the database
    const tampered = ids.slice(1, 15).filter((id) => id !== subMs && id !== gone);
    expect(new Set(invalid)).toEqual(new Set(tampered));
    const verdict = new Map(expected);
    expect(verdict.get(shorter!)!.checkpoint).toMatchObject({ status: 'mismatch' });
    expect(verdict.get(gap!)!.reason).toMatch(/seq 3 missing/);
    expect(verdict.get(tenant!)!.reason).toMatch(/instance columns differ .*tenant/);
  }, 300_000);

  // a worker started from TypeScript source compiles its imports first (ts-node): seconds each on a loaded machine
  it.each([
    [0, undefined],
    [1, 1],
    [3, 5],
    [2, undefined],
  ])(
    'with %p worker threads and batches of %p events: the same verdicts, in the same order',
    async (concurrency, batchEvents) => {
      const opts = await options();
      const expected = await sequential(opts);
      const seen: [string, VerifyResult][] = [];
      const r = await verifyAllChains(h.ds, (id, res) => seen.push([id, res]), {
        ...opts,
        concurrency,
        batchEvents,
      });
      expect(seen).toEqual(expected);
      const bad = expected.filter(([, x]) => !x.valid);
      expect(r.chains).toBe(expected.length);
      expect(r.events).toBe(expected.reduce((n, [, x]) => n + x.events, 0));
      expect(r.invalid).toBe(bad.length + 1); // + the chain the database lost
      expect(r.failures.slice(0, bad.length)).toEqual(
        bad.map(([instanceId, x]) => ({
          instanceId,
          firstBadSeq: x.firstBadSeq,
          reason: x.reason,
        })),
      );
      expect(r.failures[bad.length]).toMatchObject({
        firstBadSeq: 1,
        reason: expect.stringMatching(/^chain missing/),
      });
      expect(r.checkpoint.status).toBe('mismatch');
    },
    300_000,
  );

  it('a registry the workers cannot rebuild is checked on the calling thread, with the same verdicts', async () => {
    const custom = new DefinitionRegistry(DEFINITIONS.slice(0, 1));
    const expected = await sequential({ registry: custom });
    const seen: [string, VerifyResult][] = [];
    await verifyAllChains(h.ds, (id, res) => seen.push([id, res]), {
      registry: custom,
      concurrency: 2,
    });
    expect(seen).toEqual(expected);
  }, 120_000);

  it('runs from compiled JavaScript (as built in dist): the workers load verify-worker.js, no ts-node', async () => {
    const opts = await options();
    const expected = await verifyAllChains(h.ds, undefined, { ...opts, concurrency: 0 });
    const out = await transpileLibs();
    try {
      const script = `
        const { createDataSource } = require(${JSON.stringify(join(out, 'libs/persistence/src'))});
        const engine = require(${JSON.stringify(join(out, 'libs/engine/src'))});
        const { defaultRegistry } = require(${JSON.stringify(join(out, 'libs/workflows/src'))});
        (async () => {
          const ds = createDataSource({ url: process.env.DATABASE_URL, poolSize: 2 });
          await ds.initialize();
          const checkpoint = await engine.loadCheckpoint(
            engine.checkpointConfigFrom(JSON.parse(process.env.CHECKPOINT_CONFIG)));
          const r = await engine.verifyAllChains(ds, undefined,
            { registry: defaultRegistry(), checkpoint, concurrency: 2, batchEvents: 6 });
          await ds.destroy();
          process.stdout.write(JSON.stringify(r));
        })().catch((e) => { console.error(e); process.exit(2); });`;
      const { code, stdout, stderr } = await runNode(script, {
        DATABASE_URL: h.config.databaseUrl,
        CHECKPOINT_CONFIG: JSON.stringify({
          nodeEnv: h.config.nodeEnv,
          checkpointDir: h.config.checkpointDir,
          checkpointPrivateKey: h.config.checkpointPrivateKey,
          checkpointPublicKey: h.config.checkpointPublicKey,
          checkpointDevKey: h.config.checkpointDevKey,
        }),
      });
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(expected)));
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 240_000);
});

const ROOT = join(__dirname, '..', '..', '..');

/**
 * libs/** compiled to JavaScript in a folder of the repository (so node_modules resolve), the @app/* imports
 * rewritten to relative paths as tsc-alias does for dist: TypeScript's transpileModule, no type check (fast).
 */
async function transpileLibs(): Promise<string> {
  const out = join(ROOT, 'var', `verify-js-${randomBytes(4).toString('hex')}`);
  const files = (await readdir(join(ROOT, 'libs'), { recursive: true })).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !/spec\.ts$/.test(f),
  );
  for (const f of files) {
    const src = await readFile(join(ROOT, 'libs', f), 'utf8');
    const target = join(out, 'libs', f.replace(/\.ts$/, '.js'));
    let js = ts.transpileModule(src, {
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        resolveJsonModule: true,
      },
      fileName: f,
    }).outputText;
    js = js.replace(/require\("@app\/([a-z-]+)"\)/g, (_, lib: string) => {
      const rel = relative(dirname(target), join(out, 'libs', lib, 'src')) || '.';
      return `require(${JSON.stringify(rel.startsWith('.') ? rel : `./${rel}`)})`;
    });
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, js);
  }
  return out;
}

function runNode(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'test', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
