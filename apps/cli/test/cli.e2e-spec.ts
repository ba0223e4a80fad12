import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { runCli } from '../../../test/support/cli';
import { startHarness, type Harness } from '../../../test/support/harness';
import { tamperAuditLog } from '../../../test/support/tamper';
import { Scenario, unione } from '../../../test/support/scenario';
import { commandHelp, dispatch, globalHelp } from '../src/cli';
import { COMMANDS } from '../src/commands';

/**
 * Issue 16, CLI: every command of apps/cli run as a child process (ts-node, as test/support/cli.ts does for
 * verify-audit) against this test file's own database, its output and exit code checked, error paths included.
 * The api runs in-process (startHarness) only to build the processes the commands read; no worker runs, so
 * due deadlines stay armed until the test fires them (Engine.fireTimer, the worker's code).
 */
jest.setTimeout(600_000);

describe('iter CLI', () => {
  let h: Harness;
  let env: Record<string, string>;
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    runCli(args, { ...env, ITER_CLOCK_OFFSET_MS: String(Math.round(h.clock.offset)), ...extra });
  const m = unione('miracoli');
  const villalfonsina = m.fixture.comuni.find(
    (c) => c.denominazione === 'Villalfonsina',
  )!.codiceIpa;
  let s: Scenario;

  beforeAll(async () => {
    h = await startHarness({ worker: false });
    env = {
      DATABASE_URL: h.config.databaseUrl,
      REDIS_URL: h.config.redisUrl,
      REDIS_PREFIX: h.config.redisPrefix,
      CHECKPOINT_DIR: h.config.checkpointDir,
      JWT_DEV_SECRET: 'true',
    };
    // Miracoli under UNANIMITY (STALL): the 3 comuni and the Unione approve, Villalfonsina never deliberates
    s = new Scenario(h, m.ipa, m.comuni);
    await s.start(undefined, 'cli-miracoli');
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    h.clock.set(new Date('2026-03-10T09:00:00Z'));
    for (const [i, e] of [...m.comuni.filter((c) => c !== villalfonsina), m.ipa].entries())
      await s.approve(e, String(70 + i), '2026-03-02', { ie: true });
  });
  afterAll(() => h?.close());

  describe('usage', () => {
    it('--help globally and on each command; unknown commands and flags exit 2 with the usage', async () => {
      // child processes for the process-level behaviour (exit codes, stdout/stderr)
      const [global, cmdHelp, unknown, badFlag] = await Promise.all([
        cli(['--help']),
        cli(['overdue', '--help']),
        cli(['frobnicate']),
        cli(['verify-audit', '--bogus']),
      ]);
      expect(global.code).toBe(0);
      for (const c of COMMANDS) expect(global.stdout).toContain(`  ${c.name} `);
      expect(cmdHelp).toMatchObject({ code: 0 });
      expect(cmdHelp.stdout).toContain(
        'usage: iter overdue [--json] [--unione <ipa>] [--ente <ipa>]',
      );
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('unknown command: frobnicate');
      expect(unknown.stderr).toContain('usage: iter <command>');
      expect(badFlag.code).toBe(2);
      expect(badFlag.stderr).toContain("Unknown option '--bogus'");
      expect(badFlag.stderr).toContain('usage: iter verify-audit');
      // the same dispatcher in process for the other usage errors (a child process each is slow on a busy machine)
      const usage = async (argv: string[]) => {
        let err = '';
        const code = await dispatch(COMMANDS, argv, {
          out: () => undefined,
          err: (x) => (err += x),
        });
        return { code, err };
      };
      const noValue = await usage(['token', '--sub']);
      expect(noValue.code).toBe(2);
      expect(noValue.err).toContain("Option '--sub <value>' argument missing");
      expect(noValue.err).toContain('usage: iter token');
      const extraArg = await usage(['migrate', 'now']);
      expect(extraArg.code).toBe(2);
      expect(extraArg.err).toContain('unexpected argument: now');
      const helpOfUnknown = await usage(['help', 'frobnicate']);
      expect(helpOfUnknown.code).toBe(2);
      expect(helpOfUnknown.err).toContain('unknown command: frobnicate');
    });

    it('every command has its own --help (the same dispatcher, in process)', async () => {
      for (const c of COMMANDS) {
        let out = '';
        const code = await dispatch(COMMANDS, [c.name, '--help'], {
          out: (x) => (out += x),
          err: () => undefined,
        });
        expect({ name: c.name, code, out }).toEqual({ name: c.name, code: 0, out: commandHelp(c) });
        expect(out).toContain(`usage: iter ${c.name}`);
        for (const o of Object.keys(c.options)) expect(out).toContain(`--${o}`);
      }
      let out = '';
      expect(
        await dispatch(COMMANDS, ['help', 'seed'], { out: (x) => (out += x), err: () => 0 }),
      ).toBe(0);
      expect(out).toBe(commandHelp(COMMANDS.find((c) => c.name === 'seed')!));
      out = '';
      expect(await dispatch(COMMANDS, [], { out: (x) => (out += x), err: () => 0 })).toBe(0);
      expect(out).toBe(globalHelp(COMMANDS));
    });
  });

  it('migrate and seed: the schema is up to date, the Miracoli fixture is (re)loaded, an unknown union is refused', async () => {
    const [migrate, seed, bad] = await Promise.all([
      cli(['migrate']),
      cli(['seed', 'miracoli']),
      cli(['seed', 'atlantide']),
    ]);
    expect(migrate).toMatchObject({ code: 0 });
    expect(migrate.stdout).toContain('schema up to date');
    expect(seed).toMatchObject({ code: 0 });
    expect(seed.stdout).toMatch(/seeded \d+ unioni, \d+ comuni/);
    expect(seed.stdout).toContain(
      'u_miracoli  Unione dei Miracoli: c_b865 Casalbordino, c_g799 Pollutri, c_i520 Scerni, c_l961 Villalfonsina',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'unknown union: atlantide; available: valdera, valle-di-comino, miracoli, bassa-reggiana',
    );
  });

  it('token: a development token the api accepts; none without a shared secret; bad role or lifetime refused', async () => {
    const [ok, noSecret, badRole, badTtl] = await Promise.all([
      cli([
        'token',
        '--sub',
        'segretario.cli',
        '--role',
        'segretario',
        '--ente',
        villalfonsina,
        '--unione',
        m.ipa,
        '--ttl',
        '15m',
      ]),
      cli(['token', '--sub', 'x', '--role', 'admin'], { JWT_DEV_SECRET: '', JWT_SECRET: '' }),
      cli(['token', '--sub', 'x', '--role', 'system']),
      cli(['token', '--sub', 'x', '--role', 'admin', '--ttl', 'forever']),
    ]);
    expect(ok.code).toBe(0);
    const jwt = ok.stdout.trim();
    expect(jwt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as {
      sub: string;
      roles: string[];
      ente: string;
      unione: string;
      exp: number;
      iat: number;
    };
    expect(claims).toMatchObject({
      sub: 'segretario.cli',
      roles: ['segretario'],
      ente: villalfonsina,
      unione: m.ipa,
    });
    expect(claims.exp - claims.iat).toBe(15 * 60);
    const me = await h.http().get(`/v1/processes/${s.id}`).set('Authorization', `Bearer ${jwt}`);
    expect(me.status).toBe(200);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain('JWT_SECRET is not set');
    expect(noSecret.stdout).toBe('');
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toContain('unknown role: system');
    expect(badTtl.code).toBe(2);
    expect(badTtl.stderr).toContain('bad --ttl forever');
  });

  it('history-export: CSV and NDJSON of the process, to stdout or a file; unknown process 1, bad format 2', async () => {
    const history = (await s.history()).body as { seq: number; type: string }[];
    const file = join(tmpdir(), `iter-cli-export-${randomBytes(4).toString('hex')}.ndjson`);
    const [csv, nd, toFile, missing, badFormat] = await Promise.all([
      cli(['history-export', s.id]),
      cli([
        'history-export',
        s.id,
        '--format',
        'ndjson',
        '--type',
        'convention.deliberation.record',
      ]),
      cli(['history-export', s.id, '--format', 'ndjson', '--out', file]),
      cli(['history-export', randomUUID()]),
      cli(['history-export', s.id, '--format', 'xml']),
    ]);
    expect(csv.code).toBe(0);
    const rows = csv.stdout.split('\r\n').filter(Boolean);
    expect(rows[0]).toBe(
      'seq,occurredAt,recordedAt,type,actorSubject,actorRole,actorEnte,stateBefore,stateAfter,versionAfter,payload,prevHash,hash',
    );
    expect(rows.slice(1).map((r) => r.split(',')[3])).toEqual(history.map((e) => e.type));
    expect(nd.code).toBe(0);
    const lines = nd.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; actor: { ente: string } });
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.type))).toEqual(new Set(['convention.deliberation.record']));
    expect(toFile.code).toBe(0);
    expect(toFile.stdout).toBe('');
    expect(toFile.stderr).toContain(`history of ${s.id} written to ${file}`);
    const written = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number });
    expect(written.map((e) => e.seq)).toEqual(history.map((e) => e.seq));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('process not found');
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('unknown --format xml');
  });

  it('overdue: armed and past due (not-fired), then fired with the ente still to act (expired), then extended (none)', async () => {
    const before = await cli(['overdue']);
    expect(before).toMatchObject({ code: 0 });
    expect(before.stdout.trim()).toBe('no overdue deadlines');

    h.clock.set(new Date('2026-04-08T08:00:00Z')); // past Tue 7 Apr 23:59:59 Rome, Villalfonsina's term
    const late = await cli(['overdue', '--json']);
    expect(late.code).toBe(0);
    expect(JSON.parse(late.stdout)).toEqual([
      expect.objectContaining({
        instanceId: s.id,
        tenant: m.ipa,
        businessKey: 'cli-miracoli',
        state: 'IN_DELIBERATION',
        timerKey: `deadline:${villalfonsina}`,
        ente: villalfonsina,
        enteName: 'Villalfonsina',
        dueAt: '2026-04-07T21:59:59.999Z',
        reason: 'not-fired',
      }),
    ]);

    const [timer] = await h.ds.query<{ id: string }[]>(
      `SELECT id FROM timer WHERE instance_id = $1 AND key = $2 AND status = 'armed'`,
      [s.id, `deadline:${villalfonsina}`],
    );
    expect(await h.engine.fireTimer(timer!.id)).toBe('fired');
    expect((await s.get()).body.state).toBe('STALLED');
    const [table, otherUnione] = await Promise.all([
      cli(['overdue']),
      cli(['overdue', '--unione', 'u_valdera', '--json']),
    ]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^DUE \(Europe\/Rome\)\s+UNIONE\s+PROCESS\s+STATE\s+ENTE\s+WHY\s+ID$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^2026-04-07 23:59\\s+u_miracoli\\s+convenzione cli-miracoli\\s+STALLED\\s+${villalfonsina} Villalfonsina\\s+expired\\s+${s.id}$`,
      ),
    );
    expect(lines[2]).toBe('1 overdue');
    expect(JSON.parse(otherUnione.stdout)).toEqual([]);

    await s.ok('staff', m.ipa, 'convention.deadline.extend', {
      ente: villalfonsina,
      days: 30,
      reason: 'Proroga per la seduta rinviata',
    });
    const after = await cli(['overdue', '--json', '--ente', villalfonsina]);
    expect(JSON.parse(after.stdout)).toEqual([]);
    const bad = await cli(['overdue', '--ente', 'Not An IPA']);
    expect(bad.code).toBe(2);
  });

  it('resend: a dead notification goes back to pending and is queued; a not-dead one and an unknown id are refused', async () => {
    const [row] = await h.ds.query<{ id: string }[]>(
      `SELECT id FROM outbox WHERE instance_id = $1 ORDER BY created_at, id LIMIT 1`,
      [s.id],
    );
    await h.ds.query(
      `UPDATE outbox SET status = 'dead', attempts = 8, last_error = 'smtp: 550 mailbox unavailable' WHERE id = $1`,
      [row!.id],
    );
    const ok = await cli(['resend', row!.id, '--by', 'cli:test']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`notification ${row!.id} (`);
    expect(ok.stdout).toContain(
      '8 attempts, last error: smtp: 550 mailbox unavailable) is pending again',
    );
    expect(ok.stdout).toMatch(/queued: job [0-9a-f-]{36}/);
    const [after] = await h.ds.query<{ status: string; attempts: number; resent_by: string }[]>(
      `SELECT status, attempts, resent_by FROM outbox WHERE id = $1`,
      [row!.id],
    );
    expect(after).toEqual({ status: 'pending', attempts: 0, resent_by: 'cli:test' });

    const [again, unknown, notUuid] = await Promise.all([
      cli(['resend', row!.id]),
      cli(['resend', randomUUID()]),
      cli(['resend', '42']),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`notification ${row!.id} is pending, not dead`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('notification not found');
    expect(notUuid.code).toBe(2);
    expect(notUuid.stderr).toContain('not a notification id (uuid): 42');
  });

  it('checkpoint and verify-audit: a progress bar on stderr, a summary; a tampered chain exits 1 naming the seq', async () => {
    const cp = await cli(['checkpoint', '--force']);
    expect(cp.code).toBe(0);
    expect(cp.stdout).toMatch(
      /checkpoint written .*: \d+ chains, merkle root [0-9a-f]{64} \(development key\)/,
    );
    const [chains] = await h.ds.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM process_instance`,
    );
    const ok = await cli(['verify-audit', '--progress']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain(`| ${chains!.n}/${chains!.n} chains |`);
    expect(ok.stdout).toContain(`${chains!.n} chains,`);
    expect(ok.stdout).toContain('0 invalid');
    expect(ok.stdout).toMatch(/checkpoint \S+ \(.*\): ok/);
    expect(ok.stdout.trim().split('\n').pop()).toBe('result: OK');
    expect(ok.stdout).not.toContain('verifying [');

    await tamperAuditLog(
      h.ds,
      `UPDATE process_event SET payload = jsonb_set(payload, '{number}', '"999"') WHERE instance_id = $1 AND seq = 5`,
      [s.id],
    );
    const bad = await cli(['verify-audit']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`INVALID ${s.id}: first bad seq 5 (`);
    expect(bad.stdout).toContain('1 invalid');
    expect(bad.stdout.trim().split('\n').pop()).toBe('result: FAILED');
    expect(bad.stderr).not.toContain('verifying ['); // not a terminal, no --progress
  });
});
