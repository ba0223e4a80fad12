import { Client } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * Two PostgreSQL roles (issue 9 item 3): the OWNER owns the schema and runs the migrations; the RUNTIME role
 * (api, worker) is neither superuser nor owner, and may only SELECT and INSERT the audit tables. Without
 * ownership it cannot DISABLE TRIGGER, without superuser it cannot SET session_replication_role, so the
 * append-only triggers hold for it. Roles are cluster-wide: creation is idempotent and tolerates a concurrent
 * creator (duplicate_object / unique_violation), and the whole setup runs under an advisory lock.
 */

/** Tables the runtime role may only read and append to. */
export const AUDIT_TABLES = ['process_event', 'ente_event'] as const;
/** Tables the runtime role may never DELETE from (nothing in Iter deletes rows; the audit tables above too). */
const NO_DELETE = ['ente', 'process_instance', 'act_registry'];
const SETUP_LOCK = 7_317_003;
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

export interface RoleSetup {
  /** a superuser (or CREATEROLE + CREATEDB) connection, to any database of the cluster */
  adminUrl: string;
  /** the owner role's URL (user, password, database) */
  ownerUrl: string;
  /** the runtime role's URL (user, password; same database) */
  runtimeUrl: string;
}

interface RoleRef {
  name: string;
  password: string | null;
  database: string;
}

export function roleOf(url: string): RoleRef {
  const u = new URL(url);
  const name = decodeURIComponent(u.username);
  const database = decodeURIComponent(u.pathname.slice(1));
  if (!IDENT.test(name))
    throw new Error(`nome di ruolo non valido in ${u.protocol}//…: "${name}" (a-z, 0-9, _)`);
  if (!IDENT.test(database)) throw new Error(`nome di database non valido: "${database}"`);
  return { name, password: u.password ? decodeURIComponent(u.password) : null, database };
}

const q = (ident: string) => `"${ident}"`;
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

function tolerated(err: unknown, ...codes: string[]): boolean {
  const code = (err as { code?: string }).code;
  return code !== undefined && codes.includes(code);
}

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function ensureRole(c: Client, r: RoleRef): Promise<boolean> {
  let created = false;
  try {
    await c.query(
      `CREATE ROLE ${q(r.name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION`,
    );
    created = true;
  } catch (err) {
    // 42710 duplicate_object; 23505 unique_violation when another session creates it at the same moment
    if (!tolerated(err, '42710', '23505')) throw err;
  }
  // an existing role keeps being what it must be (never superuser), whatever it was made before
  await c.query(
    `ALTER ROLE ${q(r.name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS` +
      (r.password !== null ? ` PASSWORD ${lit(r.password)}` : ''),
  );
  return created;
}

/**
 * Create (idempotently) the owner and runtime roles and the database, and hand the database, its public
 * schema and every object in it to the owner (a database migrated before by a superuser is taken over).
 * Run before the migrations, with the superuser URL the operator gave (`npm start`, `iter migrate`).
 */
export async function setupDatabaseRoles(s: RoleSetup, log: (m: string) => void): Promise<void> {
  const owner = roleOf(s.ownerUrl);
  const runtime = roleOf(s.runtimeUrl);
  if (owner.name === runtime.name)
    throw new Error(`DATABASE_OWNER_URL e DATABASE_URL usano lo stesso ruolo (${owner.name})`);
  if (owner.database !== runtime.database)
    throw new Error('DATABASE_OWNER_URL e DATABASE_URL devono indicare lo stesso database');
  await withClient(s.adminUrl, async (c) => {
    await c.query('SELECT pg_advisory_lock($1)', [SETUP_LOCK]);
    try {
      for (const r of [owner, runtime])
        if (await ensureRole(c, r)) log(`ruolo PostgreSQL "${r.name}" creato`);
      const exists = await c.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [
        owner.database,
      ]);
      if (exists.rowCount === 0) {
        try {
          await c.query(`CREATE DATABASE ${q(owner.database)} OWNER ${q(owner.name)}`);
          log(`database "${owner.database}" creato`);
        } catch (err) {
          if (!tolerated(err, '42P04', '23505')) throw err;
        }
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [SETUP_LOCK]).catch(() => undefined);
    }
  });
  const inDb = new URL(s.adminUrl);
  inDb.pathname = `/${owner.database}`;
  await withClient(inDb.toString(), async (c) => {
    await c.query('SELECT pg_advisory_lock($1)', [SETUP_LOCK]);
    try {
      await c.query(`ALTER DATABASE ${q(owner.database)} OWNER TO ${q(owner.name)}`);
      await c.query(`ALTER SCHEMA public OWNER TO ${q(owner.name)}`);
      // objects created earlier by another role (e.g. migrated as the superuser) pass to the owner
      await c.query(`DO $$
        DECLARE r record;
        BEGIN
          FOR r IN SELECT format('ALTER TABLE %I.%I OWNER TO %I', n.nspname, c.relname, ${lit(owner.name)}) AS sql
                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
                     AND pg_get_userbyid(c.relowner) <> ${lit(owner.name)}
          LOOP EXECUTE r.sql; END LOOP;
          FOR r IN SELECT format('ALTER SEQUENCE %I.%I OWNER TO %I', n.nspname, c.relname, ${lit(owner.name)}) AS sql
                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'public' AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) <> ${lit(owner.name)}
                     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
          LOOP EXECUTE r.sql; END LOOP;
          FOR r IN SELECT format('ALTER FUNCTION %s OWNER TO %I', p.oid::regprocedure, ${lit(owner.name)}) AS sql
                   FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> ${lit(owner.name)}
                     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
          LOOP EXECUTE r.sql; END LOOP;
        END $$`);
      await c.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
      await c.query(`REVOKE ALL ON DATABASE ${q(owner.database)} FROM PUBLIC`);
      await c.query(
        `GRANT CONNECT, TEMPORARY ON DATABASE ${q(owner.database)} TO ${q(runtime.name)}`,
      );
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [SETUP_LOCK]).catch(() => undefined);
    }
  });
}

/**
 * Grant the runtime role what it needs, after the migrations, as the owner (tables added by later migrations
 * get their grants the same way): SELECT, INSERT, UPDATE (and DELETE where deleting is harmless) on the
 * tables; on the audit tables SELECT and INSERT only; nothing on the migrations table but SELECT.
 */
export async function grantRuntime(ds: DataSource, runtimeRole: string): Promise<void> {
  if (!IDENT.test(runtimeRole)) throw new Error(`nome di ruolo non valido: "${runtimeRole}"`);
  const rt = q(runtimeRole);
  const tables = (
    await ds.query<{ name: string }[]>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')`,
    )
  ).map((t) => t.name);
  await ds.query(`GRANT USAGE ON SCHEMA public TO ${rt}`);
  for (const t of tables) {
    const table = q(t);
    await ds.query(`REVOKE ALL ON ${table} FROM ${rt}`);
    if ((AUDIT_TABLES as readonly string[]).includes(t) || t === 'act_registry')
      await ds.query(`GRANT SELECT, INSERT ON ${table} TO ${rt}`);
    else if (t === 'migrations' || t === 'typeorm_metadata')
      await ds.query(`GRANT SELECT ON ${table} TO ${rt}`);
    else if (NO_DELETE.includes(t))
      await ds.query(`GRANT SELECT, INSERT, UPDATE ON ${table} TO ${rt}`);
    else await ds.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO ${rt}`);
  }
  await ds.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${rt}`);
}

export interface RoleCheck {
  role: string;
  superuser: boolean;
  /** the role owns process_event (and so could disable its triggers) */
  ownsAuditLog: boolean;
  /** the role may UPDATE, DELETE or TRUNCATE an audit table */
  mayRewriteAuditLog: boolean;
}

/** What the connected role could do to the audit log (for the start-up check). */
export async function checkRuntimeRole(ds: DataSource): Promise<RoleCheck | null> {
  const rows = await ds.query<
    { role: string; superuser: boolean; owns: boolean; rewrite: boolean }[]
  >(
    `SELECT current_user AS role, r.rolsuper AS superuser,
       pg_get_userbyid(c.relowner) = current_user AS owns,
       has_table_privilege('process_event', 'UPDATE') OR has_table_privilege('process_event', 'DELETE')
         OR has_table_privilege('process_event', 'TRUNCATE') AS rewrite
     FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.oid = to_regclass('process_event')`,
  );
  const r = rows[0];
  if (!r) return null;
  return {
    role: r.role,
    superuser: r.superuser,
    ownsAuditLog: r.owns,
    mayRewriteAuditLog: r.superuser || r.owns || r.rewrite,
  };
}
