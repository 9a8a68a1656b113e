import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { grantReadModels } from './1732300000000-audit-log';

/**
 * Read model of the gate's policy revisions (gate.PolicyRevisionRecorded, docs/gate.md): what each
 * verdict's `policyRevision` stands for. `policies` is null when the gate did not keep them (JCS form
 * over 512 KiB, `bytes`).
 */
export class PolicyRevisions1732300001500 implements MigrationInterface {
  readonly name = 'PolicyRevisions1732300001500';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE policy_revisions (
      revision text PRIMARY KEY, policies jsonb, bytes integer NOT NULL, recorded_at timestamptz NOT NULL,
      event_id text NOT NULL)`);
    await queryRunner.query(
      `CREATE INDEX policy_revisions_recorded_at ON policy_revisions (recorded_at, revision)`,
    );
    await grantReadModels(queryRunner, ['policy_revisions']);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE policy_revisions`);
  }
}
