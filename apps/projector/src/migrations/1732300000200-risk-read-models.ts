import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { grantReadModels } from './1732300000000-audit-log';

const TABLES = [
  'risk_policies',
  'risk_ledger_entries',
  'risk_reservations',
  'risk_reservation_decisions',
  'risk_usage',
  'tripwire_triggers',
];

/** Read models of the risk guard and tripwire firings (docs/projector.md). */
export class RiskReadModels1732300000200 implements MigrationInterface {
  readonly name = 'RiskReadModels1732300000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE risk_policies (
        policy_id text PRIMARY KEY, limits jsonb NOT NULL, enabled boolean NOT NULL, throttled boolean NOT NULL,
        throttled_since timestamptz, last_cause jsonb NOT NULL, updated_at timestamptz NOT NULL)`,
      `CREATE TABLE risk_ledger_entries (
        event_id text NOT NULL, position integer NOT NULL, day text NOT NULL, entry_type text NOT NULL,
        reservation_id text, engine_id text, data jsonb NOT NULL, PRIMARY KEY (event_id, position))`,
      `CREATE INDEX risk_ledger_entries_day ON risk_ledger_entries (day)`,
      `CREATE INDEX risk_ledger_entries_reservation ON risk_ledger_entries (reservation_id)`,
      `CREATE TABLE risk_reservations (
        reservation_id text PRIMARY KEY, engine_id text, day text NOT NULL, status text NOT NULL, latest jsonb NOT NULL)`,
      `CREATE INDEX risk_reservations_engine_day ON risk_reservations (engine_id, day)`,
      `CREATE INDEX risk_reservations_status ON risk_reservations (status, day)`,
      `CREATE TABLE risk_reservation_decisions (
        event_id text PRIMARY KEY, reservation_id text NOT NULL, engine_id text NOT NULL, outcome text NOT NULL,
        reason text, day text NOT NULL, decided_at timestamptz NOT NULL, request jsonb NOT NULL, reply jsonb NOT NULL)`,
      `CREATE INDEX risk_reservation_decisions_engine ON risk_reservation_decisions (engine_id, decided_at)`,
      `CREATE INDEX risk_reservation_decisions_decided_at ON risk_reservation_decisions (decided_at)`,
      `CREATE TABLE risk_usage (
        day text NOT NULL, policy_id text NOT NULL, usage jsonb NOT NULL, limits jsonb,
        decided_at timestamptz NOT NULL, PRIMARY KEY (day, policy_id))`,
      `CREATE TABLE tripwire_triggers (
        event_id text PRIMARY KEY, engine_id text NOT NULL, action text NOT NULL, policy_id text NOT NULL,
        reason text, data jsonb NOT NULL, triggered_at timestamptz NOT NULL)`,
      `CREATE INDEX tripwire_triggers_engine ON tripwire_triggers (engine_id, triggered_at)`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
    await grantReadModels(queryRunner, TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...TABLES].reverse()) await queryRunner.query(`DROP TABLE ${table}`);
  }
}
