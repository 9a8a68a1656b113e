import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `strategies.demotion_pending_from`: while a demotion is pending, the level the engine last knew,
 * which the projection needs to keep `demotion_pending` as the gate keeps it (an override that
 * lowers the level, a second demotion, a promotion still below that level). A row stored pending
 * takes the `from` of its latest demotion; rows stored before are otherwise left as they were
 * (their history lacks the acknowledgements), which `npm run projector:rebuild` corrects.
 */
export class StrategiesDemotionPendingFrom1732300002000 implements MigrationInterface {
  readonly name = 'StrategiesDemotionPendingFrom1732300002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE strategies ADD COLUMN demotion_pending_from text`);
    await queryRunner.query(
      `UPDATE strategies AS s SET demotion_pending_from = (
         SELECT c.from_level FROM strategy_maturity_changes AS c
         WHERE c.engine_id = s.engine_id AND c.strategy_id = s.strategy_id AND c.kind = 'demoted'
         ORDER BY c.changed_at DESC, c.event_id DESC LIMIT 1)
       WHERE s.demotion_pending`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE strategies DROP COLUMN demotion_pending_from`);
  }
}
