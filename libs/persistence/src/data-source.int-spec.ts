import { createDataSource, dataSourceOptions, MIGRATIONS } from './data-source';

/**
 * One schema, no drift: the migrations are the only description of the database. No entity class is registered (so
 * none can drift from them), TypeORM's schema diff against the migrated database proposes nothing, and no migration
 * is pending. Against the run's real, migrated PostgreSQL database (test/global-setup.ts).
 */
describe('the database schema comes from the migrations only (integration)', () => {
  const ds = createDataSource({ url: process.env['ITER_TEST_DATABASE_URL']!, poolSize: 2 });

  beforeAll(async () => {
    await ds.initialize();
  });
  afterAll(async () => {
    await ds.destroy();
  });

  it('registers no entity and never synchronizes', () => {
    const opts = dataSourceOptions({ url: 'postgres://x@127.0.0.1/x', poolSize: 1 });
    expect(opts.entities).toEqual([]);
    expect(opts.synchronize).toBe(false);
    expect(ds.entityMetadatas).toEqual([]);
  });

  it('has an empty schema diff against the migrated database and no pending migration', async () => {
    const diff = await ds.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
    expect(await ds.showMigrations()).toBe(false);
    const applied = await ds.query<{ name: string }[]>('SELECT name FROM migrations ORDER BY id');
    expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
  });
});
