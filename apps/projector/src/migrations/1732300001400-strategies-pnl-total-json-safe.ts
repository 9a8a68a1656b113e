import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `strategies.pnl_total` stays within ±(2^53 − 1) minor units, the money amounts JSON carries
 * exactly (every amount the services take is bounded so): an outcome that would take the total
 * further is refused by Postgres and parked (`PROJECTION.REFUSED`), instead of leaving a row the
 * API could not answer. `NOT VALID`: a row already beyond is left for a rebuild to correct. It
 * holds for each batch's sum per strategy (the projection adds them at once), not each outcome's.
 */
export class StrategiesPnlTotalJsonSafe1732300001400 implements MigrationInterface {
  readonly name = 'StrategiesPnlTotalJsonSafe1732300001400';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE strategies ADD CONSTRAINT strategies_pnl_total_json_safe
         CHECK (pnl_total BETWEEN -9007199254740991 AND 9007199254740991) NOT VALID`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE strategies DROP CONSTRAINT strategies_pnl_total_json_safe`);
  }
}
