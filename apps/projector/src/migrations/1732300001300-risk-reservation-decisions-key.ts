import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `risk_reservation_decisions` is keyed by `reservation_id` (one decision per reservation), no longer
 * by `event_id`: one `risk.ReservationsDecided` holds several decisions, so its rows share the
 * message's envelope id. `event_id` stays, NOT NULL, unindexed (nothing looks rows up by it). Rows of
 * `risk.ReservationDecided` records have `event_id` = `reservation_id` and fit either key.
 */
export class RiskReservationDecisionsKey1732300001300 implements MigrationInterface {
  readonly name = 'RiskReservationDecisionsKey1732300001300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE risk_reservation_decisions DROP CONSTRAINT risk_reservation_decisions_pkey,
         ADD PRIMARY KEY (reservation_id), ALTER COLUMN event_id SET NOT NULL`,
    );
  }

  /**
   * Drops the rows of `risk.ReservationsDecided` records (their `event_id` is not their reservation
   * id), which the `event_id` key cannot hold and the projector before this migration does not
   * project either. Migrating up again does not bring them back (the audit log keeps the records; a
   * rebuild re-projects those still in BIFROST_DECISIONS).
   */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM risk_reservation_decisions WHERE event_id <> reservation_id`);
    await queryRunner.query(
      `ALTER TABLE risk_reservation_decisions DROP CONSTRAINT risk_reservation_decisions_pkey,
         ADD PRIMARY KEY (event_id)`,
    );
  }
}
