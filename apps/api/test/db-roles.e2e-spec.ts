import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import {
  checkRuntimeRole,
  createDataSource,
  runMigrations,
  seedUnioni,
  setupDatabaseRoles,
} from '@app/persistence';
import { prepareDatabase } from '@app/runtime';
import { startHarness, testConfig, type Harness } from '../../../test/support/harness';
import { Scenario, unione } from '../../../test/support/scenario';

/**
 * Issue 9 item 3: the api and the worker connect as a RUNTIME role that is not superuser, not owner, and has no
 * UPDATE/DELETE/TRUNCATE on the audit tables; migrations run as the OWNER. Asserted against the real server:
 * the refusals come from PostgreSQL itself. Roles are cluster-wide, so this run uses role names of its own
 * (iter_own_<rand>, iter_rt_<rand>) and drops them at the end; its database is dropped by global-teardown.
 */
const suffix = randomBytes(4).toString('hex');
const OWNER = `iter_own_${suffix}`;
const RUNTIME = `iter_rt_${suffix}`;
const DB = `${process.env['ITER_TEST_DATABASE_NAME']}_roles_${suffix}`;
const ADMIN_URL =
  process.env['TEST_DATABASE_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const urlFor = (user: string, db = DB) => {
  const u = new URL(ADMIN_URL);
  u.username = user;
  u.password = '';
  u.pathname = `/${db}`;
  return u.toString();
};
const ADMIN_IN_DB = (() => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${DB}`;
  return u.toString();
})();

async function asRole<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
const sqlState = async (url: string, sql: string): Promise<string | null> =>
  asRole(url, async (c) => {
    try {
      await c.query(sql);
      return null;
    } catch (err) {
      return (err as { code?: string }).code ?? 'unknown';
    }
  });

describe('database roles: owner for migrations, a runtime role that cannot rewrite the audit log (e2e)', () => {
  let h: Harness | null = null;
  const v = unione('valdera');

  beforeAll(async () => {
    // an existing deployment: the database created and migrated by the superuser, as before this change
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${DB}`);
    await admin.end();
    const ds = createDataSource({ url: ADMIN_IN_DB, poolSize: 2 });
    await ds.initialize();
    await runMigrations(ds);
    await seedUnioni(ds, ['valdera']);
    await ds.destroy();
    // then the roles are set up, twice at once (api and worker start together): idempotent and race-free
    const setup = {
      adminUrl: ADMIN_URL,
      ownerUrl: urlFor(OWNER),
      runtimeUrl: urlFor(RUNTIME),
    };
    await Promise.all([
      setupDatabaseRoles(setup, () => undefined),
      setupDatabaseRoles(setup, () => undefined),
    ]);
    // the owner migrates (nothing pending) and grants the runtime role, as `npm start` does
    const config = testConfig({
      DATABASE_URL: urlFor(RUNTIME),
      DATABASE_OWNER_URL: urlFor(OWNER),
      DATABASE_ADMIN_URL: ADMIN_URL,
    });
    await prepareDatabase(config, () => undefined);
    h = await startHarness({ config });
  });

  afterAll(async () => {
    await h?.close();
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    for (const role of [RUNTIME, OWNER]) await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it('the owner owns every table (those the superuser created before included); the runtime role is no superuser', async () => {
    const owners: { relname: string; owner: string }[] = await asRole(
      ADMIN_IN_DB,
      async (c) =>
        (
          await c.query(
            `SELECT c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'`,
          )
        ).rows,
    );
    expect(owners.length).toBeGreaterThan(5);
    expect(owners.filter((o) => o.owner !== OWNER)).toEqual([]);
    const roles = await asRole(
      ADMIN_URL,
      async (c) =>
        (
          await c.query(
            `SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname`,
            [[OWNER, RUNTIME]],
          )
        ).rows,
    );
    expect(roles).toEqual([
      {
        rolname: OWNER,
        rolsuper: false,
        rolcreaterole: false,
        rolcreatedb: false,
        rolbypassrls: false,
      },
      {
        rolname: RUNTIME,
        rolsuper: false,
        rolcreaterole: false,
        rolcreatedb: false,
        rolbypassrls: false,
      },
    ]);
    expect(await checkRuntimeRole(h!.ds)).toEqual({
      role: RUNTIME,
      superuser: false,
      ownsAuditLog: false,
      mayRewriteAuditLog: false,
    });
  });

  it.each([
    ['UPDATE process_event', `UPDATE process_event SET type = type`],
    ['DELETE FROM process_event', `DELETE FROM process_event`],
    ['TRUNCATE process_event', `TRUNCATE process_event`],
    ['UPDATE ente_event', `UPDATE ente_event SET op = op`],
    ['DELETE FROM ente_event', `DELETE FROM ente_event`],
    ['TRUNCATE ente_event', `TRUNCATE ente_event`],
    ['SET session_replication_role = replica', `SET session_replication_role = replica`],
    ['ALTER TABLE process_event DISABLE TRIGGER', `ALTER TABLE process_event DISABLE TRIGGER USER`],
    ['ALTER TABLE ente_event DISABLE TRIGGER', `ALTER TABLE ente_event DISABLE TRIGGER USER`],
    ['DROP TRIGGER', `DROP TRIGGER process_event_no_update_delete ON process_event`],
    ['DELETE FROM ente', `DELETE FROM ente`],
    ['INSERT INTO migrations', `INSERT INTO migrations (timestamp, name) VALUES (1, 'x')`],
    ['CREATE TABLE', `CREATE TABLE sneaky (id int)`],
  ])('the runtime role is refused by PostgreSQL: %s', async (_name, sql) => {
    // 42501 insufficient_privilege; 42P01 for nothing: the statement reaches the permission check
    expect(await sqlState(urlFor(RUNTIME), sql)).toBe('42501');
  });

  it('the owner could (which is why checkpoints live outside the database): it owns the triggers', async () => {
    expect(
      await sqlState(
        urlFor(OWNER),
        `ALTER TABLE process_event DISABLE TRIGGER USER; ALTER TABLE process_event ENABLE TRIGGER USER`,
      ),
    ).toBeNull();
  });

  it('the api runs as the runtime role: a process starts, moves and verifies over HTTP', async () => {
    const s = new Scenario(h!, v.ipa, v.comuni.slice(0, 2));
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    await s.approve(v.comuni[0]!, '77', '2026-02-09');
    const token = await s.as('presidente');
    const res = await h!
      .http()
      .get(`/v1/processes/${s.id}/history/verify`)
      .set('Authorization', `Bearer ${token}`);
    expect(res.body).toMatchObject({ valid: true, events: 4 });
    // the ente registry is written through the runtime role too, audited
    const admin = await h!.token({ roles: ['admin'], ente: null, unione: null });
    const ente = await h!.http().post('/v1/entes').set('Authorization', `Bearer ${admin}`).send({
      kind: 'COMUNE',
      denominazione: 'Ruoli',
      codiceIpa: 'c_z980',
      codiceIstat: '050980',
      unione: v.ipa,
    });
    expect(ente.status).toBe(201);
  });
});
