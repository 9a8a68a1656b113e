import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { grantReadModels } from './1732300000000-audit-log';

const TABLES = ['tripwire_policies', 'tripwire_engines'];

/** Read models of the tripwire's policies and per-engine windows (docs/projector.md). */
export class TripwireReadModels1732300000300 implements MigrationInterface {
  readonly name = 'TripwireReadModels1732300000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE tripwire_policies (
      policy_id text PRIMARY KEY, config jsonb NOT NULL, enabled boolean NOT NULL, updated_at timestamptz NOT NULL)`);
    await queryRunner.query(`CREATE TABLE tripwire_engines (
      policy_id text NOT NULL, engine_id text NOT NULL, kpis bigint NOT NULL, last_kpi_at timestamptz,
      reset_at timestamptz, PRIMARY KEY (policy_id, engine_id))`);
    await grantReadModels(queryRunner, TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...TABLES].reverse()) await queryRunner.query(`DROP TABLE ${table}`);
  }
}
