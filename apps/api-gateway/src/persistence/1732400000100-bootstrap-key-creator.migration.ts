import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** The bootstrap owner key is created by the gateway, as its `gateway.ApiKeyCreated` event says. */
export class BootstrapKeyCreator1732400000100 implements MigrationInterface {
  readonly name = 'BootstrapKeyCreator1732400000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE api_keys SET created_by = 'api-gateway' WHERE id = 'bootstrap-owner' AND created_by = 'environment'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE api_keys SET created_by = 'environment' WHERE id = 'bootstrap-owner' AND created_by = 'api-gateway'`,
    );
  }
}
