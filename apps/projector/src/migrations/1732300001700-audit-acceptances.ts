import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { grantReadModels } from './1732300000000-audit-log';

/**
 * Read model of the operators' acceptances of the audit log as it stands (system.AuditLogAccepted,
 * `bifrost-audit accept`, ADR 0019).
 */
export class AuditAcceptances1732300001700 implements MigrationInterface {
  readonly name = 'AuditAcceptances1732300001700';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE audit_acceptances (
      event_id text PRIMARY KEY, accepted_seq bigint NOT NULL, accepted_hash text NOT NULL,
      previous_seq bigint, previous_hash text, rows_verified bigint NOT NULL, reason text NOT NULL,
      actor_id text NOT NULL, accepted_at timestamptz NOT NULL)`);
    await queryRunner.query(`CREATE INDEX audit_acceptances_accepted_at ON audit_acceptances (accepted_at)`);
    await grantReadModels(queryRunner, ['audit_acceptances']);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_acceptances`);
  }
}
