import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { mintDevToken } from '@app/auth';
import { ConfigError, loadConfig, ROLES, type Role } from '@app/common';
import { verifyAllChains } from '@app/engine';
import { createDataSource, runMigrations, seedUnioni, UNIONI_FIXTURES } from '@app/persistence';
import { ensureDatabase, preflight } from '@app/runtime';

/**
 * Iter admin commands (plain argv, no framework):
 *   migrate                       apply pending migrations
 *   seed [unione-key ...]         load the unions of DOMAIN.md §6 (default: all four)
 *   token --sub S --role R[,R] [--ente IPA] [--unione IPA] [--ttl 8h]   mint a development HS256 token
 *   verify-audit [--json]         verify every hash chain in the database, print a summary (exit 1 if one is broken)
 *   start [--dev-secret]          run api + worker (what `npm start` does, with --dev-secret)
 */
function flags(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      out[a.slice(2)] = argv[i + 1] && !argv[i + 1]!.startsWith('--') ? argv[++i]! : 'true';
    }
  }
  return out;
}

async function withDataSource<T>(
  fn: (ds: ReturnType<typeof createDataSource>) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  await ensureDatabase(config.databaseUrl, (m) => console.log(m));
  const ds = createDataSource({ url: config.databaseUrl, poolSize: 4 });
  await ds.initialize();
  try {
    return await fn(ds);
  } finally {
    await ds.destroy();
  }
}

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2);
  switch (cmd) {
    case 'migrate': {
      const applied = await withDataSource((ds) => runMigrations(ds));
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema up to date');
      return 0;
    }
    case 'seed': {
      const keys = rest.filter((r) => !r.startsWith('--'));
      const unknown = keys.filter((k) => !UNIONI_FIXTURES.some((u) => u.key === k));
      if (unknown.length) {
        console.error(
          `unione sconosciuta: ${unknown.join(', ')}; disponibili: ${UNIONI_FIXTURES.map((u) => u.key).join(', ')}`,
        );
        return 2;
      }
      const r = await withDataSource(async (ds) => {
        await runMigrations(ds);
        return seedUnioni(ds, keys);
      });
      console.log(`seeded ${r.unioni} unioni, ${r.comuni} comuni`);
      for (const u of UNIONI_FIXTURES.filter((x) => keys.length === 0 || keys.includes(x.key))) {
        console.log(
          `  ${u.codiceIpa}  ${u.denominazione}: ${u.comuni.map((c) => `${c.codiceIpa} ${c.denominazione}`).join(', ')}`,
        );
      }
      return 0;
    }
    case 'token': {
      const f = flags(rest);
      const config = loadConfig();
      if (!config.jwtSecret) {
        console.error(
          'JWT_SECRET non impostato: i token di sviluppo si firmano con HS256 e il segreto condiviso ' +
            '(JWT_SECRET, oppure JWT_DEV_SECRET=true per il segreto di sviluppo incorporato)',
        );
        return 2;
      }
      const roles = (f['role'] ?? '').split(',').filter(Boolean);
      const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r) || r === 'system');
      if (!f['sub'] || roles.length === 0 || bad.length) {
        console.error(
          `uso: token --sub <subject> --role <${ROLES.filter((r) => r !== 'system').join('|')}>[,...] [--ente <ipa>] [--unione <ipa>] [--ttl 8h]`,
        );
        return 2;
      }
      console.log(
        await mintDevToken(
          config.jwtSecret,
          {
            sub: f['sub'],
            name: f['name'],
            roles: roles as Role[],
            ente: f['ente'] ?? null,
            unione: f['unione'] ?? null,
          },
          f['ttl'] ?? '8h',
          { issuer: config.jwtIssuer, audience: config.jwtAudience },
        ),
      );
      return 0;
    }
    case 'verify-audit': {
      const json = flags(rest)['json'] === 'true';
      return withDataSource(async (ds) => {
        const r = await verifyAllChains(ds, (id, v) => {
          if (!v.valid && !json)
            console.log(`INVALID ${id}: first bad seq ${v.firstBadSeq} (${v.reason})`);
        });
        if (json) console.log(JSON.stringify(r));
        else
          console.log(
            `${r.chains} chains, ${r.events} events verified: ${r.valid} valid, ${r.invalid} invalid`,
          );
        return r.invalid === 0 ? 0 : 1;
      });
    }
    case 'start': {
      // `npm start` passes --dev-secret: outside production, with no key configured, the api uses the built-in
      // development secret (JWT_DEV_SECRET=true), and says so; anywhere else it must be asked for explicitly
      const e = process.env;
      if (
        flags(rest)['dev-secret'] === 'true' &&
        e['NODE_ENV'] !== 'production' &&
        !e['JWT_SECRET'] &&
        !e['JWT_JWKS_URL'] &&
        e['JWT_DEV_SECRET'] === undefined
      ) {
        e['JWT_DEV_SECRET'] = 'true';
        console.log(
          '[iter] JWT_DEV_SECRET=true: token di sviluppo firmati con il segreto incorporato (mai in produzione)',
        );
      }
      const config = loadConfig();
      await preflight(config, (m) => console.log(`[iter] ${m}`));
      const env = { ...process.env, MIGRATIONS_RUN: 'false' };
      const dist = join(__dirname, '..', '..');
      const children: ChildProcess[] = [
        spawn(process.execPath, [join(dist, 'api', 'src', 'main.js')], { stdio: 'inherit', env }),
        spawn(process.execPath, [join(dist, 'worker', 'src', 'main.js')], {
          stdio: 'inherit',
          env,
        }),
      ];
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
    }
    default:
      console.error(
        'comandi: migrate | seed [unione...] | token --sub --role [--ente --unione] | verify-audit [--json] | start',
      );
      return cmd ? 2 : 0;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError || err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
