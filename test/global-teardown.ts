import IORedis from 'ioredis';
import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const dbName = process.env['ITER_TEST_DATABASE_NAME'];
  const admin =
    process.env['TEST_DATABASE_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (dbName && process.env['ITER_TEST_KEEP_DB'] !== 'true') {
    const client = new Client({ connectionString: admin });
    await client.connect();
    const dbs = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1`,
      [`${dbName}%`],
    );
    for (const { datname } of dbs.rows)
      await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    await client.end();
  }
  const prefix = process.env['ITER_TEST_REDIS_PREFIX'];
  if (prefix) {
    const redis = new IORedis(process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379');
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
}
