import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The api refuses to start with a clear message on bad config or an unreachable server (real processes). */
describe('start-up (real process)', () => {
  const root = join(__dirname, '..', '..', '..');
  const run = (env: Record<string, string>) =>
    spawnSync(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'apps/api/src/main.ts',
      ],
      {
        cwd: root,
        env: { ...process.env, TS_NODE_PROJECT: 'tsconfig.json', NO_COLOR: '1', ...env },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );

  it('stops on an invalid variable, naming it', () => {
    const r = run({ PORT: 'eighty' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('PORT="eighty"');
  });

  it('says which server is unreachable and what to do', () => {
    const r = run({
      REDIS_URL: 'redis://127.0.0.1:1',
      DATABASE_URL: process.env['ITER_TEST_DATABASE_URL']!,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Redis non raggiungibile');
    expect(r.stderr).toContain('REDIS_URL');
  });
});
