import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class ConsumerCheckpoints1732200000000 implements MigrationInterface {
  readonly name = 'ConsumerCheckpoints1732200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consumer_checkpoints (
        consumer      text        NOT NULL,
        stream        text        NOT NULL,
        last_sequence bigint      NOT NULL CHECK (last_sequence >= 0),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, stream)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE consumer_checkpoints');
  }
}
