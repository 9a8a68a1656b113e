import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { grantReadModels } from './1732300000000-audit-log';

const TABLES = [
  'canary_probes',
  'canary_probe_history',
  'canary_alerts',
  'canary_engines',
  'canary_summaries',
];

/** Read models of the canary: probes, status history, alerts, watched engines, summaries (docs/canary.md). */
export class CanaryReadModels1732300000600 implements MigrationInterface {
  readonly name = 'CanaryReadModels1732300000600';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE canary_probes (
      probe_name text PRIMARY KEY, config jsonb NOT NULL, kind text NOT NULL, action text NOT NULL,
      status text NOT NULL, status_since timestamptz, removed boolean NOT NULL, updated_at timestamptz NOT NULL)`);
    await queryRunner.query(`CREATE TABLE canary_probe_history (
      event_id text PRIMARY KEY, probe_name text NOT NULL, from_status text NOT NULL, to_status text NOT NULL,
      consecutive_failures integer NOT NULL, consecutive_passes integer NOT NULL, detail text NOT NULL,
      latency_ms integer NOT NULL, at timestamptz NOT NULL)`);
    await queryRunner.query(
      `CREATE INDEX canary_probe_history_probe_at ON canary_probe_history (probe_name, at)`,
    );
    await queryRunner.query(`CREATE TABLE canary_alerts (
      alert_id text PRIMARY KEY, probe_name text, engine_id text, action text NOT NULL, reason text NOT NULL,
      raised_at timestamptz NOT NULL, resolved_at timestamptz, acknowledged_by jsonb, acknowledged_reason text,
      acknowledged_at timestamptz)`);
    await queryRunner.query(`CREATE INDEX canary_alerts_raised_at ON canary_alerts (raised_at)`);
    await queryRunner.query(`CREATE TABLE canary_engines (
      engine_id text PRIMARY KEY, status text NOT NULL, allowed_gap_ms integer, auto_resume boolean NOT NULL,
      enabled boolean NOT NULL, stale_since timestamptz, last_heartbeat_at timestamptz,
      resume_requested_at timestamptz, updated_at timestamptz NOT NULL)`);
    await queryRunner.query(`CREATE TABLE canary_summaries (
      event_id text PRIMARY KEY, from_at timestamptz NOT NULL, to_at timestamptz NOT NULL, probes jsonb NOT NULL,
      engines jsonb NOT NULL)`);
    await queryRunner.query(`CREATE INDEX canary_summaries_to_at ON canary_summaries (to_at)`);
    await grantReadModels(queryRunner, TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...TABLES].reverse()) await queryRunner.query(`DROP TABLE ${table}`);
  }
}
