import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Each refresh token carries the login its session began with, so a session ends
 * `GATEWAY_SESSION_MAX_AGE_SECONDS` after it however often it is refreshed. A token stored before
 * knows only its own creation (its last rotation): its session is counted from then.
 */
export class RefreshSessionStart1732400000200 implements MigrationInterface {
  readonly name = 'RefreshSessionStart1732400000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE refresh_tokens ADD COLUMN session_started_at timestamptz`);
    await queryRunner.query(`UPDATE refresh_tokens SET session_started_at = created_at`);
    await queryRunner.query(`ALTER TABLE refresh_tokens ALTER COLUMN session_started_at SET NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE refresh_tokens DROP COLUMN session_started_at');
  }
}
