import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '@app/common';
import { checkpointConfigFrom, writeCheckpointNow } from '@app/engine';
import { seedUnioni, UNIONI_FIXTURES } from '@app/persistence';
import { prepareDatabase, preflight } from '@app/runtime';
import { defineCommand, UsageError } from '../cli';
import { say, warn, withDataSource } from './support';

export const migrate = defineCommand({
  name: 'migrate',
  summary:
    'create the roles (with DATABASE_ADMIN_URL), apply pending migrations as the owner, grant the runtime role',
  options: {},
  optionHelp: {},
  async run() {
    const applied = await prepareDatabase(loadConfig(), say);
    say(applied.length ? `applied: ${applied.join(', ')}` : 'schema up to date');
    return 0;
  },
});

export const seed = defineCommand({
  name: 'seed',
  summary: `load the fixture unions of DOMAIN.md §6 (${UNIONI_FIXTURES.map((u) => u.key).join(', ')}; default: all), audited in the registry chain`,
  args: '[unione-key...]',
  maxPositionals: UNIONI_FIXTURES.length,
  details:
    'Idempotent: a union already present is left as it is. Migrations are applied first (as `migrate`).',
  options: {},
  optionHelp: {},
  async run(_values, keys) {
    const unknown = keys.filter((k) => !UNIONI_FIXTURES.some((u) => u.key === k));
    if (unknown.length)
      throw new UsageError(
        `unknown union: ${unknown.join(', ')}; available: ${UNIONI_FIXTURES.map((u) => u.key).join(', ')}`,
      );
    const config = loadConfig();
    await prepareDatabase(config, say);
    const r = await withDataSource((ds) => seedUnioni(ds, keys), config.databaseOwnerUrl, say);
    say(`seeded ${r.unioni} unioni, ${r.comuni} comuni`);
    for (const u of UNIONI_FIXTURES.filter((x) => keys.length === 0 || keys.includes(x.key))) {
      say(
        `  ${u.codiceIpa}  ${u.denominazione}: ${u.comuni.map((c) => `${c.codiceIpa} ${c.denominazione}`).join(', ')}`,
      );
    }
    return 0;
  },
});

export const checkpoint = defineCommand({
  name: 'checkpoint',
  summary: 'write a signed checkpoint of every chain head to CHECKPOINT_DIR',
  options: { force: { type: 'boolean' } },
  optionHelp: { force: { help: 'write one even when no chain moved since the latest' } },
  async run(values) {
    const cp = checkpointConfigFrom(loadConfig());
    if (!cp.signingKey) {
      warn(
        'CHECKPOINT_PRIVATE_KEY is not set: checkpoints are signed with a configured Ed25519 key ' +
          '(in development CHECKPOINT_DEV_KEY=true uses the built-in development key)',
      );
      return 2;
    }
    return withDataSource(async (ds) => {
      const r = await writeCheckpointNow(ds, cp, new Date(), { force: values.force === true });
      say(
        `${r.written ? 'checkpoint written' : 'no change since'} ${r.file}: ${r.checkpoint.chains.length} chains, merkle root ${r.checkpoint.merkleRoot}${cp.devKey ? ' (development key)' : ''}`,
      );
      return 0;
    });
  },
});

/**
 * `npm start` passes --dev-secret: outside production, with no key configured, the api uses the built-in
 * development secret (JWT_DEV_SECRET=true) and the development checkpoint key, and says so; anywhere else
 * they must be asked for explicitly.
 */
export function applyDevSecrets(env: NodeJS.ProcessEnv, log: (m: string) => void): void {
  if (env['NODE_ENV'] === 'production') return;
  if (!env['JWT_SECRET'] && !env['JWT_JWKS_URL'] && env['JWT_DEV_SECRET'] === undefined) {
    env['JWT_DEV_SECRET'] = 'true';
    log(
      '[iter] JWT_DEV_SECRET=true: token di sviluppo firmati con il segreto incorporato (mai in produzione)',
    );
  }
  if (
    !env['CHECKPOINT_PRIVATE_KEY'] &&
    !env['CHECKPOINT_PRIVATE_KEY_FILE'] &&
    env['CHECKPOINT_DEV_KEY'] === undefined
  ) {
    env['CHECKPOINT_DEV_KEY'] = 'true';
    log(
      '[iter] CHECKPOINT_DEV_KEY=true: checkpoint di audit firmati con la chiave di sviluppo (mai in produzione)',
    );
  }
}

export const start = defineCommand({
  name: 'start',
  summary: 'run api + worker as two child processes (what `npm start` does, with --dev-secret)',
  options: { 'dev-secret': { type: 'boolean' } },
  optionHelp: {
    'dev-secret': {
      help: 'outside production, with no key configured: the built-in development JWT secret and checkpoint key',
    },
  },
  details:
    'Checks PostgreSQL and Redis first, applies pending migrations, then starts both; when one exits the other is stopped.',
  async run(values) {
    if (values['dev-secret']) applyDevSecrets(process.env, say);
    const config = loadConfig();
    await preflight(config, (m) => say(`[iter] ${m}`));
    const env = { ...process.env, MIGRATIONS_RUN: 'false' };
    // dist/apps/{api,worker}/src/main.js when built; from the sources under ts-node (the tests) the .ts files
    const apps = join(__dirname, '..', '..', '..');
    const fromSource = __filename.endsWith('.ts');
    const node = (app: string) =>
      spawn(
        process.execPath,
        [
          ...(fromSource ? ['-r', 'ts-node/register', '-r', 'tsconfig-paths/register'] : []),
          join(apps, app, 'src', fromSource ? 'main.ts' : 'main.js'),
        ],
        { stdio: 'inherit', env },
      );
    const children: ChildProcess[] = [node('api'), node('worker')];
    const stop = (signal: NodeJS.Signals) =>
      children.forEach((c) => c.exitCode === null && c.kill(signal));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    return new Promise<number>((resolve) => {
      for (const c of children) {
        c.on('exit', (code) => {
          stop('SIGTERM'); // one gone: stop the other, so a half-running Iter never looks healthy
          resolve(code ?? 1);
        });
      }
    });
  },
});
