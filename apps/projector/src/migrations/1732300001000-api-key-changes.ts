import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { grantReadModels } from './1732300000000-audit-log';

/** Read model of API key creations and revocations (gateway.ApiKeyCreated/Revoked, docs/api.md). */
export class ApiKeyChanges1732300001000 implements MigrationInterface {
  readonly name = 'ApiKeyChanges1732300001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE api_key_changes (
      event_id text PRIMARY KEY, key_id text NOT NULL, change text NOT NULL, role text NOT NULL, name text,
      engine_id text, expires_at timestamptz, actor_kind text NOT NULL, actor_id text NOT NULL,
      changed_at timestamptz NOT NULL)`);
    await queryRunner.query(`CREATE INDEX api_key_changes_by_key ON api_key_changes (key_id, changed_at)`);
    await grantReadModels(queryRunner, ['api_key_changes']);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE api_key_changes`);
  }
}
