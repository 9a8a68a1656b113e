import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** The role the projector writes as (`SET ROLE`); see docs/projector.md "Grants". */
export const APP_ROLE = 'bifrost_app';

/**
 * DESIGN §6: the audit log, append-only in the database itself. The triggers fire for every role,
 * owner included (and, since 1732300001200, in every session); only the owner or a superuser who
 * disables them can rewrite history, and the hash chain shows it.
 */
export class AuditLog1732300000000 implements MigrationInterface {
  readonly name = 'AuditLog1732300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Roles are cluster-wide: several databases (tests, tenants) may create it at the same moment.
    await queryRunner.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
          CREATE ROLE ${APP_ROLE} NOLOGIN;
        END IF;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);
    await queryRunner.query(`
      DO $$ BEGIN
        IF NOT pg_has_role(current_user, '${APP_ROLE}', 'MEMBER') THEN
          EXECUTE format('GRANT ${APP_ROLE} TO %I', current_user);
        END IF;
      END $$`);
    await queryRunner.query(`
      CREATE TABLE audit_log (
        seq         bigint      PRIMARY KEY CHECK (seq >= 1),
        event_id    text        NOT NULL UNIQUE,
        event_type  text        NOT NULL,
        stream      text        NOT NULL,
        stream_seq  bigint      NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        envelope    jsonb       NOT NULL,
        prev_hash   char(64)    NOT NULL,
        hash        char(64)    NOT NULL
      )`);
    // Only the indexes the queries use (seq pages, type filter) and the uniqueness guarantees: each
    // extra index costs every batch insert.
    await queryRunner.query(`CREATE INDEX audit_log_event_type ON audit_log (event_type, seq)`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX audit_log_stream_position ON audit_log (stream, stream_seq)`,
    );
    await queryRunner.query(`
      CREATE FUNCTION audit_log_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % rejected', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_reject_change()`);
    await queryRunner.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_reject_change()`);
    await queryRunner.query(`REVOKE ALL ON audit_log FROM PUBLIC`);
    await queryRunner.query(`GRANT SELECT, INSERT ON audit_log TO ${APP_ROLE}`);
    await queryRunner.query(`GRANT SELECT, INSERT, UPDATE ON consumer_checkpoints TO ${APP_ROLE}`);
    await grantSchemaUsage(queryRunner);
  }

  async down(): Promise<void> {
    throw new Error('the audit log is never dropped by a migration');
  }
}

/** The app role needs to see the schema the tables live in (search_path's first entry). */
export async function grantSchemaUsage(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(`
    DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO ${APP_ROLE}', current_schema()); END $$`);
}

/** Read models belong to the projector: the app role may rewrite and, for a rebuild, truncate them. */
export async function grantReadModels(queryRunner: QueryRunner, tables: readonly string[]): Promise<void> {
  for (const table of tables) {
    await queryRunner.query(`GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ${table} TO ${APP_ROLE}`);
  }
}
