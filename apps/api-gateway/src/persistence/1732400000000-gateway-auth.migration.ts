import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class GatewayAuth1732400000000 implements MigrationInterface {
  readonly name = 'GatewayAuth1732400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE api_keys (
        id          text        PRIMARY KEY,
        name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        role        text        NOT NULL CHECK (role IN ('viewer', 'operator', 'admin', 'owner', 'engine')),
        engine_id   text,
        key_hash    text        NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
        created_by  text        NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz,
        revoked_at  timestamptz,
        revoked_by  text,
        CHECK ((role = 'engine') = (engine_id IS NOT NULL))
      )`);
    await queryRunner.query(`CREATE INDEX api_keys_role_active ON api_keys (role) WHERE revoked_at IS NULL`);
    await queryRunner.query(`
      CREATE TABLE refresh_tokens (
        id          uuid        PRIMARY KEY,
        key_id      text        NOT NULL REFERENCES api_keys (id),
        token_hash  text        NOT NULL UNIQUE,
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL,
        revoked_at  timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX refresh_tokens_key ON refresh_tokens (key_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE refresh_tokens');
    await queryRunner.query('DROP TABLE api_keys');
  }
}
