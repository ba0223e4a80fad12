import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import IORedis from 'ioredis';

/**
 * Faults on PRIVATE dependencies: the machine's Postgres and Redis are shared, so a test never stops,
 * freezes or flushes them. A Redis of the test's own (a child redis-server on a free port) and a TCP proxy
 * in front of Postgres that the test can cut or freeze.
 */

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** SIGTERM and wait: the data is gone (--save "" --appendonly no), like a restarted cache */
  stop(): Promise<void>;
  /** a new redis-server on the same port */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing is answered */
  freeze(): void;
  thaw(): void;
}

const privateRedises = new Set<ChildProcess>();

/** A redis-server child on a free port, without persistence. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    const c = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    privateRedises.add(c);
    c.once('exit', () => privateRedises.delete(c));
    child = c;
    const probe = new IORedis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    const t0 = Date.now();
    for (;;) {
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch {
        if (Date.now() - t0 > 10_000) throw new Error(`redis-server on ${port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    probe.disconnect();
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop: async () => {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGCONT');
      c.kill('SIGTERM');
      await exited;
    },
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
  };
}

/** afterAll: no private redis-server outlives its test file */
export async function stopPrivateRedises(): Promise<void> {
  await Promise.all(
    [...privateRedises].map(async (c) => {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGCONT');
      c.kill('SIGKILL');
      await exited;
    }),
  );
}

export type ProxyMode = 'pass' | 'down' | 'frozen';

/**
 * A TCP proxy between the app and Postgres (127.0.0.1:5432). `down`: existing connections are cut and new
 * ones refused (ECONNREFUSED), like a stopped server; `frozen`: connections stay open and no byte moves in
 * either direction, like a server that hangs; `pass`: normal.
 */
export class PgProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket; flush: () => void }>();
  mode: ProxyMode = 'pass';
  port = 0;

  constructor(private readonly target = { host: '127.0.0.1', port: 5432 }) {}

  async listen(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) =>
      this.server!.listen(this.port, '127.0.0.1', () => resolve()),
    );
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** the database URL through this proxy */
  url(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  async setMode(mode: ProxyMode): Promise<void> {
    const was = this.mode;
    this.mode = mode;
    if (mode === 'down') {
      for (const p of this.pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      this.pairs.clear();
      if (this.server) {
        const s = this.server;
        this.server = null;
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    } else {
      if (!this.server) await this.listen();
      if (was === 'frozen' && mode === 'pass') for (const p of this.pairs) p.flush();
    }
  }

  async close(): Promise<void> {
    await this.setMode('down');
  }

  private accept(client: Socket): void {
    if (this.mode === 'down') {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    const held: { to: Socket; data: Buffer }[] = [];
    const forward = (to: Socket) => (data: Buffer) => {
      if (this.mode === 'frozen') held.push({ to, data });
      else to.write(data);
    };
    const pair = {
      client,
      upstream,
      flush: () => {
        for (const h of held.splice(0)) h.to.write(h.data);
      },
    };
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    upstream.connect(this.target.port, this.target.host);
  }
}

/** Percentile of a list of numbers (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth) */
  readonly url: string;
  readonly port: number;
  /** stop the server (fast shutdown) and remove its data directory */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL cluster of the test's own (initdb in a temporary directory, trust auth, a free port), so a
 * test can SIGSTOP one of its backends: the machine's shared server is never frozen. The binaries are
 * found with `pg_config --bindir` or under /usr/lib/postgresql/<version>/bin. initdb refuses to run as
 * root: as root the cluster runs as the `postgres` system user.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, readdirSync, rmSync, chownSync, existsSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  let bin: string | null = null;
  try {
    bin = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    bin = null;
  }
  if (!bin || !existsSync(join(bin, 'initdb'))) {
    const root = '/usr/lib/postgresql';
    const versions = existsSync(root)
      ? readdirSync(root).sort((a, b) => Number(b) - Number(a))
      : [];
    bin =
      versions.map((v) => join(root, v, 'bin')).find((b) => existsSync(join(b, 'initdb'))) ?? null;
  }
  if (!bin) throw new Error('no PostgreSQL server binaries (initdb) found');
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot
    ? {
        uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
        gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
      }
    : {};
  const dir = mkdtempSync(join(tmpdir(), 'iter-private-pg-'));
  if (asRoot) chownSync(dir, ids.uid!, ids.gid!);
  const data = join(dir, 'data');
  execFileSync(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres'], {
    ...ids,
    stdio: 'ignore',
  });
  const port = await freePort();
  const child = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
    ],
    { ...ids, stdio: 'ignore' },
  );
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const { Client } = await import('pg');
  const t0 = Date.now();
  for (;;) {
    const c = new Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      break;
    } catch {
      await c.end().catch(() => undefined);
      if (child.exitCode !== null || Date.now() - t0 > 30_000)
        throw new Error(`private postgres on ${port} did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    port,
    destroy: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT'); // fast shutdown
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
