import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `control_kill_switches` is keyed by `(kind, scope)`, no longer by `scope` alone: kind `global`
 * (scope `global`) or `engine` (scope the engine id). An engine id may be `global`, and under the
 * old key that engine's switch and the global one shared a row (releasing the engine's showed the
 * global switch released while the gate still enforced it). Rows stored before are `global` where
 * their scope is `global`, else `engine`; a row the two switches already shared is taken as the
 * global one (`npm run projector:rebuild` re-projects both from the streams).
 */
export class KillSwitchKind1732300001900 implements MigrationInterface {
  readonly name = 'KillSwitchKind1732300001900';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE control_kill_switches ADD COLUMN kind text`);
    await queryRunner.query(
      `UPDATE control_kill_switches SET kind = CASE WHEN scope = 'global' THEN 'global' ELSE 'engine' END`,
    );
    await queryRunner.query(
      `ALTER TABLE control_kill_switches ALTER COLUMN kind SET NOT NULL,
         ADD CONSTRAINT control_kill_switches_kind CHECK (kind IN ('global', 'engine')),
         DROP CONSTRAINT control_kill_switches_pkey, ADD PRIMARY KEY (kind, scope)`,
    );
  }

  /**
   * Drops the switch of an engine named `global`, which the `scope` key cannot hold apart from the
   * global one (the projector before this migration would merge them).
   */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM control_kill_switches WHERE kind = 'engine' AND scope = 'global'`);
    await queryRunner.query(
      `ALTER TABLE control_kill_switches DROP CONSTRAINT control_kill_switches_pkey,
         DROP COLUMN kind, ADD PRIMARY KEY (scope)`,
    );
  }
}
