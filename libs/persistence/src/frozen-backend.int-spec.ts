import { startPrivatePostgres, type PrivatePostgres } from '../../../test/support/faults';
import { createDataSource } from './data-source';
import type { DataSource } from 'typeorm';

/**
 * One frozen backend (SIGSTOP on a server process of a private cluster; the shared server is never touched):
 * the statement on it fails after the client-side read timeout (statement + 1 s), and that connection must
 * never be handed out again. node-postgres leaves a timed-out query on its connection, so a pooled
 * connection returned after the timeout made every later request that drew it wait the full timeout again
 * (and, with a half-open connection that never answers, forever one request in N).
 */
describe('a frozen Postgres backend (integration, private cluster)', () => {
  let pg: PrivatePostgres;
  let ds: DataSource;
  const frozen: number[] = [];
  const backendPid = async () =>
    (await ds.query<{ pid: number }[]>('SELECT pg_backend_pid() AS pid'))[0]!.pid;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    ds = createDataSource({
      url: pg.url,
      poolSize: 1,
      timeouts: { connectMs: 1000, statementMs: 500, lockMs: 500, idleInTransactionMs: 5000 },
    });
    await ds.initialize();
  }, 60_000);

  afterAll(async () => {
    for (const pid of frozen) process.kill(pid, 'SIGCONT');
    await ds?.destroy().catch(() => undefined);
    await pg?.destroy();
  });

  it('its connection is discarded after the read timeout: the next query gets a fresh one at once', async () => {
    const pid = await backendPid();
    process.kill(pid, 'SIGSTOP');
    frozen.push(pid);

    const t0 = Date.now();
    await expect(ds.query('SELECT 1')).rejects.toThrow(/Query read timeout/);
    expect(Date.now() - t0).toBeLessThan(3000);

    // the backend is still frozen: the pool (size 1) must not give its connection out again
    for (let i = 0; i < 3; i++) {
      const t1 = Date.now();
      expect(await backendPid()).not.toBe(pid);
      expect(Date.now() - t1).toBeLessThan(1000);
    }

    // the same through a transaction (the engine's path): it commits on a live connection
    const qr = ds.createQueryRunner();
    const t2 = Date.now();
    await qr.startTransaction();
    await qr.query('SELECT 1');
    await qr.commitTransaction();
    await qr.release();
    expect(Date.now() - t2).toBeLessThan(1000);
  }, 60_000);
});
