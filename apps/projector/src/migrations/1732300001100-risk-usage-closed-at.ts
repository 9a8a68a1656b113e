import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `risk_usage.closed_at`: when the ledger day closed (the next day's `LedgerOpened`, which carries
 * the day's final usage). Null while a row is the usage as of the day's latest reservation decision.
 */
export class RiskUsageClosedAt1732300001100 implements MigrationInterface {
  readonly name = 'RiskUsageClosedAt1732300001100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE risk_usage ADD COLUMN closed_at timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE risk_usage DROP COLUMN closed_at`);
  }
}
