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

  it('stops without a key to verify tokens: the development secret must be asked for', () => {
    const r = run({ JWT_SECRET: '', JWT_JWKS_URL: '', JWT_DEV_SECRET: '' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('JWT_DEV_SECRET=true');
  });

  it('stops in production without an issuer and an audience to check tokens against', () => {
    const r = run({ NODE_ENV: 'production', JWT_SECRET: 'p'.repeat(40), JWT_ISSUER: '' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('JWT_ISSUER and JWT_AUDIENCE');
  });

  it('says which server is unreachable and what to do', () => {
    const r = run({
      JWT_DEV_SECRET: 'true',
      REDIS_URL: 'redis://127.0.0.1:1',
      DATABASE_URL: process.env['ITER_TEST_DATABASE_URL']!,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Redis non raggiungibile');
    expect(r.stderr).toContain('REDIS_URL');
  });
});
