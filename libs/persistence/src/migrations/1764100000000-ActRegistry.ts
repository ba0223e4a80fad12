import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The register of each ente's acts (deliberations) recorded in any process: a comune's deliberation number is
 * unique per organ and year, whichever process records it.
 */
export class ActRegistry1764100000000 implements MigrationInterface {
  name = 'ActRegistry1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE act_registry (
        ente        text NOT NULL,
        organ       text NOT NULL,
        year        integer NOT NULL,
        number      text NOT NULL,
        instance_id uuid NOT NULL REFERENCES process_instance(id),
        event_seq   integer NOT NULL,
        act_date    date NOT NULL,
        PRIMARY KEY (ente, organ, year, number)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE act_registry`);
  }
}
