import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Indexes in the order the gateway lists two tables, newest first, with no filter or with filters
 * no other index serves: `GET /risk/reservations` (by `day, reservation_id`; `risk_reservations`
 * grows by a row per reservation, so without it every page scanned and sorted the whole table)
 * and `GET /approvals` (by `requested_at, approval_id`, with no filter or by engine only).
 */
export class ListOrderIndexes1732300001800 implements MigrationInterface {
  readonly name = 'ListOrderIndexes1732300001800';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX risk_reservations_by_day ON risk_reservations (day, reservation_id)`,
    );
    await queryRunner.query(`CREATE INDEX approvals_by_time ON approvals (requested_at, approval_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX approvals_by_time`);
    await queryRunner.query(`DROP INDEX risk_reservations_by_day`);
  }
}
