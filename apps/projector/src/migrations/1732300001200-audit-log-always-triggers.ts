import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The append-only triggers of `audit_log` fire in every session: created plain, they did not fire
 * for a session with `session_replication_role = replica` (logical replication's apply, or a
 * superuser who sets it), which could then rewrite rows without disabling anything.
 */
export class AuditLogAlwaysTriggers1732300001200 implements MigrationInterface {
  readonly name = 'AuditLogAlwaysTriggers1732300001200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_update_delete`);
    await queryRunner.query(`ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete`);
    await queryRunner.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_truncate`);
  }
}
