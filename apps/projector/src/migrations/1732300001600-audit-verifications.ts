import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { grantReadModels } from './1732300000000-audit-log';

/**
 * Read model of the writer's re-verifications of the audit log (system.AuditChainVerified,
 * docs/projector.md "Audit log verification").
 */
export class AuditVerifications1732300001600 implements MigrationInterface {
  readonly name = 'AuditVerifications1732300001600';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE audit_verifications (
      event_id text PRIMARY KEY, intact boolean NOT NULL, rows_verified bigint NOT NULL,
      through_seq bigint NOT NULL, head_hash text, break_seq bigint, break_reason text,
      started_at timestamptz NOT NULL, duration_ms integer NOT NULL)`);
    await queryRunner.query(
      `CREATE INDEX audit_verifications_started_at ON audit_verifications (started_at)`,
    );
    await grantReadModels(queryRunner, ['audit_verifications']);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_verifications`);
  }
}
