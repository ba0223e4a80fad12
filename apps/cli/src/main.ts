import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { mintDevToken } from '@app/auth';
import { ConfigError, loadConfig, ROLES, type Role } from '@app/common';
import {
  checkpointConfigFrom,
  loadCheckpoint,
  verifyAllChains,
  writeCheckpointNow,
} from '@app/engine';
import { createDataSource, seedUnioni, UNIONI_FIXTURES } from '@app/persistence';
import { ensureDatabase, prepareDatabase, preflight } from '@app/runtime';
import { defaultRegistry } from '@app/workflows';

/**
 * Iter admin commands (plain argv, no framework):
 *   migrate                       create the roles (with DATABASE_ADMIN_URL), apply pending migrations as the owner,
 *                                 grant the runtime role
 *   seed [unione-key ...]         load the unions of DOMAIN.md §6 (default: all four), audited in the registry chain
 *   token --sub S --role R[,R] [--ente IPA] [--unione IPA] [--ttl 8h]   mint a development HS256 token
 *   verify-audit [--json]         verify every hash chain in the database (processes and ente registry) against the
 *                                 latest signed checkpoint, print a summary (exit 1 if anything is wrong)
 *   checkpoint [--force]          write a signed checkpoint of every chain head to CHECKPOINT_DIR
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
  url: string = loadConfig().databaseUrl,
): Promise<T> {
  await ensureDatabase(url, (m) => console.log(m));
  const ds = createDataSource({ url, poolSize: 4 });
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
      const applied = await prepareDatabase(loadConfig(), (m) => console.log(m));
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
      const config = loadConfig();
      await prepareDatabase(config, (m) => console.log(m));
      const r = await withDataSource((ds) => seedUnioni(ds, keys), config.databaseOwnerUrl);
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
      const config = loadConfig();
      const cp = checkpointConfigFrom(config);
      return withDataSource(async (ds) => {
        const r = await verifyAllChains(
          ds,
          (id, v) => {
            if (!v.valid && !json)
              console.log(`INVALID ${id}: first bad seq ${v.firstBadSeq} (${v.reason})`);
          },
          { registry: defaultRegistry(), checkpoint: await loadCheckpoint(cp) },
        );
        const ok =
          r.invalid === 0 &&
          r.registry.valid &&
          (r.checkpoint.status === 'ok' || r.checkpoint.status === 'absent');
        if (json) console.log(JSON.stringify(r));
        else {
          for (const p of r.registry.problems)
            console.log(
              `INVALID ente-registry${p.ente ? ` ${p.ente}` : ''}${p.seq ? ` seq ${p.seq}` : ''}: ${p.reason}`,
            );
          for (const m of r.checkpoint.moved) console.log(`MOVED ${m.chain}: ${m.reason}`);
          if (r.checkpoint.status === 'untrusted')
            console.log(`CHECKPOINT ${r.checkpoint.file}: ${r.checkpoint.problem}`);
          console.log(
            `${r.chains} chains, ${r.events} events verified: ${r.valid} valid, ${r.invalid} invalid`,
          );
          console.log(
            `ente registry: ${r.registry.events} events, ${r.registry.valid ? 'valid' : `${r.registry.problems.length} problems`}`,
          );
          console.log(
            r.checkpoint.status === 'absent'
              ? `checkpoint: none in ${cp.dir}`
              : `checkpoint ${r.checkpoint.createdAt} (${r.checkpoint.file}): ${r.checkpoint.status}`,
          );
        }
        return ok ? 0 : 1;
      });
    }
    case 'checkpoint': {
      const config = loadConfig();
      const cp = checkpointConfigFrom(config);
      if (!cp.signingKey) {
        console.error(
          'CHECKPOINT_PRIVATE_KEY non impostata: i checkpoint si firmano con una chiave Ed25519 configurata (in sviluppo CHECKPOINT_DEV_KEY=true usa la chiave di sviluppo)',
        );
        return 2;
      }
      return withDataSource(async (ds) => {
        const r = await writeCheckpointNow(ds, cp, new Date(), {
          force: flags(rest)['force'] === 'true',
        });
        console.log(
          `${r.written ? 'checkpoint written' : 'no change since'} ${r.file}: ${r.checkpoint.chains.length} chains, merkle root ${r.checkpoint.merkleRoot}${cp.devKey ? ' (development key)' : ''}`,
        );
        return 0;
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
      if (
        flags(rest)['dev-secret'] === 'true' &&
        e['NODE_ENV'] !== 'production' &&
        !e['CHECKPOINT_PRIVATE_KEY'] &&
        !e['CHECKPOINT_PRIVATE_KEY_FILE'] &&
        e['CHECKPOINT_DEV_KEY'] === undefined
      ) {
        e['CHECKPOINT_DEV_KEY'] = 'true';
        console.log(
          '[iter] CHECKPOINT_DEV_KEY=true: checkpoint di audit firmati con la chiave di sviluppo (mai in produzione)',
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
        'comandi: migrate | seed [unione...] | token --sub --role [--ente --unione] | verify-audit [--json] | checkpoint [--force] | start',
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
