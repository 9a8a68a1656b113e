import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The decision records' documents (gate verdicts and requests, reservation requests and replies)
 * are stored as `json`, not `jsonb`: written once, never queried inside and read back whole, so
 * Postgres keeps the text as given instead of converting it on every insert and every read. Gate
 * decisions also get `reasons`, the checks that shaped the verdict (every check whose outcome is
 * not ALLOW), so a page of decisions need not carry every verdict whole (ADR 0012).
 */
export class DecisionDocuments1732300000900 implements MigrationInterface {
  readonly name = 'DecisionDocuments1732300000900';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE gate_decisions ALTER COLUMN verdict TYPE json USING verdict::json,
         ALTER COLUMN request TYPE json USING request::json, ADD COLUMN reasons json`,
    );
    await queryRunner.query(
      `UPDATE gate_decisions SET reasons = coalesce(
         (SELECT json_agg(c) FROM json_array_elements(verdict->'checks') c WHERE c->>'outcome' <> 'ALLOW'), '[]')`,
    );
    await queryRunner.query(`ALTER TABLE gate_decisions ALTER COLUMN reasons SET NOT NULL`);
    await queryRunner.query(
      `ALTER TABLE risk_reservation_decisions ALTER COLUMN request TYPE json USING request::json,
         ALTER COLUMN reply TYPE json USING reply::json`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE gate_decisions DROP COLUMN reasons, ALTER COLUMN verdict TYPE jsonb USING verdict::jsonb,
         ALTER COLUMN request TYPE jsonb USING request::jsonb`,
    );
    await queryRunner.query(
      `ALTER TABLE risk_reservation_decisions ALTER COLUMN request TYPE jsonb USING request::jsonb,
         ALTER COLUMN reply TYPE jsonb USING reply::jsonb`,
    );
  }
}
