import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../test/support/cli';
import { GENEROUS_DATABASE_TIMEOUTS, isolatedDatabase } from '../../../test/support/harness';

/**
 * Issue 16, demo: `iter start` (api + worker as child processes, from the sources) on a database of this file's
 * own, then `iter demo` against it through the HTTP API only; the Italian timeline is checked line by line.
 */
jest.setTimeout(900_000);
const ROOT = join(__dirname, '..', '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('npm run demo (Unione dei Miracoli against a running Iter)', () => {
  let iter: ChildProcess;
  let output = '';
  let base = '';
  let env: Record<string, string>;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      NODE_ENV: 'test',
      TS_NODE_TRANSPILE_ONLY: 'true',
      DATABASE_URL: await isolatedDatabase(),
      REDIS_URL: process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: `${process.env['ITER_TEST_REDIS_PREFIX']}-demo-${randomBytes(3).toString('hex')}`,
      PORT: String(port),
      HOST: '127.0.0.1',
      WORKER_HEALTH_PORT: '0',
      CHECKPOINT_DIR: join(tmpdir(), `iter-demo-checkpoints-${randomBytes(4).toString('hex')}`),
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_WRITES_PER_MINUTE: '1000000',
      ...GENEROUS_DATABASE_TIMEOUTS,
    };
    iter = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register',
        '-r',
        'tsconfig-paths/register',
        join(ROOT, 'apps/cli/src/main.ts'),
        'start',
        '--dev-secret',
      ],
      { cwd: ROOT, env: { ...process.env, ...env }, detached: false },
    );
    iter.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    iter.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const t0 = Date.now();
    for (;;) {
      if (iter.exitCode !== null) throw new Error(`iter start exited ${iter.exitCode}:\n${output}`);
      const up =
        output.includes('Iter worker started') &&
        (await fetch(`${base}/health/live`).then(
          (r) => r.ok,
          () => false,
        ));
      if (up) break;
      if (Date.now() - t0 > 600_000) throw new Error(`iter start did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  });

  afterAll(async () => {
    if (!iter || iter.exitCode !== null) return;
    const exited = new Promise((r) => iter.once('exit', r));
    iter.kill('SIGTERM'); // `iter start` stops both children
    await exited;
  });

  it('`iter start --dev-secret` said which development secrets it uses', () => {
    expect(output).toContain(
      '[iter] JWT_DEV_SECRET=true: token di sviluppo firmati con il segreto incorporato',
    );
  });

  it('prints the Italian timeline: who did what, when, which deadline moved where, the RTD opened by the worker', async () => {
    const r = await runCli(['demo', '--dev-secret', '--api', base], env);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = r.stdout.trim().split('\n');
    const when = String.raw`\d{1,2} (gen|feb|mar|apr|mag|giu|lug|ago|set|ott|nov|dic) \d{4} \d{2}:\d{2} — `;
    const dayIt = String.raw`\d{1,2} (?:gen|feb|mar|apr|mag|giu|lug|ago|set|ott|nov|dic) \d{4}`;
    const expected = [
      `Unione dei Miracoli, presidente: avviata la convenzione ICT per 4 comuni \\(approvazione a maggioranza: almeno 3 enti\\)$`,
      `Unione dei Miracoli, presidente: congelato il testo \\(versione [0-9a-f]{12}…\\); stato DRAFT → FROZEN$`,
      `Unione dei Miracoli, presidente: registrata la consegna via PEC del testo ai consigli; stato FROZEN → IN_DELIBERATION; termine per le delibere di 5 enti fissato al ${dayIt}$`,
      `Comune di Casalbordino, segretario: registrata delibera n\\. \\d+ del ${dayIt} \\(APPROVATA, immediatamente eseguibile\\)$`,
      `Comune di Pollutri, segretario: registrata delibera`,
      `Comune di Scerni, segretario: registrata delibera`,
      `Unione dei Miracoli, segretario: registrata delibera`,
      `Unione dei Miracoli, ufficio dell’Unione: concessa una proroga di 30 giorni al Comune di Villalfonsina \\(seduta del consiglio rinviata\\); termine per Villalfonsina spostato dal (${dayIt}) al (${dayIt})$`,
      `Comune di Villalfonsina, segretario: registrata delibera n\\. \\d+ del ${dayIt} \\(RESPINTA\\); stato IN_DELIBERATION → READY_TO_SIGN$`,
      `Comune di Casalbordino, sindaco: firmata digitalmente la convenzione$`,
      `Comune di Pollutri, sindaco: firmata digitalmente la convenzione$`,
      `Comune di Scerni, sindaco: firmata digitalmente la convenzione$`,
      `Unione dei Miracoli, presidente: firmata digitalmente la convenzione; stato READY_TO_SIGN → IN_FORCE$`,
      `Iter \\(sistema\\): avviata d’ufficio la nomina del RTD associato \\(stato [A-Z_]+\\)$`,
    ];
    expect(lines[0]).toBe(`Iter — scenario Unione dei Miracoli (DOMAIN.md §6.3) su ${base}`);
    expected.forEach((e, i) => expect(lines[i + 1]).toMatch(new RegExp(`^${when}${e}`)));
    const moved = new RegExp(`spostato dal (${dayIt}) al (${dayIt})`).exec(lines[8]!)!;
    expect(moved[1]).not.toBe(moved[2]);
    const tail = lines.slice(expected.length + 1).join('\n');
    expect(tail).toContain('Esito: convenzione IN_FORCE');
    expect(tail).toMatch(/Villalfonsina\s+REJECTED/);
    for (const c of ['Casalbordino', 'Pollutri', 'Scerni', 'Unione dei Miracoli'])
      expect(tail).toMatch(new RegExp(`${c}\\s+SIGNED`));
    expect(tail).toContain('Registro di audit: 13 eventi, catena integra');
  });

  it('says so, in Italian, when Iter is not running; a bad URL is a usage error', async () => {
    const [down, bad] = await Promise.all([
      runCli(['demo', '--dev-secret', '--api', `http://127.0.0.1:${await freePort()}`], env),
      runCli(['demo', '--api', 'ftp://x'], env),
    ]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /demo interrotta: Iter non raggiungibile su http:\/\/127\.0\.0\.1:\d+ .*è avviato\?/,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--api is not an http(s) URL: ftp://x');
  });
});
