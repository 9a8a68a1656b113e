import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { grantReadModels } from './1732300000000-audit-log';

const TABLES = [
  'governance_engines',
  'governance_commands',
  'governance_incidents',
  'governance_attestations',
  'governance_breaker_rules',
  'governance_breaker_events',
  'governance_paused_commands',
  'governance_reports',
  'governance_proposals',
  'governance_approvers',
];

/** Read models of the governance agent (docs/governance.md); its phases are in governance_phases. */
export class GovernanceReadModels1732300000800 implements MigrationInterface {
  readonly name = 'GovernanceReadModels1732300000800';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE governance_engines (
        engine_id text PRIMARY KEY, enrolled_phase text NOT NULL, phase_since timestamptz NOT NULL,
        ladder jsonb NOT NULL, enrolled_by jsonb NOT NULL, enrolled_at timestamptz NOT NULL,
        ladder_updated_at timestamptz)`,
      `CREATE TABLE governance_commands (
        engine_id text NOT NULL, command_id text NOT NULL, command_type text NOT NULL, outcome text NOT NULL,
        required_approval boolean NOT NULL, approved boolean, duration_ms integer,
        recorded_at timestamptz NOT NULL, PRIMARY KEY (engine_id, command_id))`,
      `CREATE INDEX governance_commands_by_time ON governance_commands (engine_id, recorded_at)`,
      `CREATE TABLE governance_incidents (
        engine_id text NOT NULL, incident_id text NOT NULL, severity text NOT NULL, command_type text,
        summary text NOT NULL, recorded_at timestamptz NOT NULL, PRIMARY KEY (engine_id, incident_id))`,
      `CREATE INDEX governance_incidents_by_time ON governance_incidents (engine_id, recorded_at)`,
      `CREATE TABLE governance_attestations (
        engine_id text NOT NULL, item_id text NOT NULL, passed boolean NOT NULL, evidence text NOT NULL,
        attested_by text NOT NULL, attested_at timestamptz NOT NULL, expires_at timestamptz,
        PRIMARY KEY (engine_id, item_id))`,
      `CREATE TABLE governance_breaker_rules (
        engine_id text NOT NULL, rule_id text NOT NULL, name text NOT NULL, condition text NOT NULL,
        rule_window text NOT NULL, action text NOT NULL, command_type text, enabled boolean NOT NULL,
        updated_by jsonb, update_reason text, updated_at timestamptz NOT NULL, PRIMARY KEY (engine_id, rule_id))`,
      `CREATE TABLE governance_breaker_events (
        engine_id text NOT NULL, event_id text NOT NULL, rule_id text NOT NULL, rule_name text NOT NULL,
        condition text NOT NULL, rule_window text NOT NULL, action text NOT NULL, command_type text,
        observed jsonb NOT NULL, explanation text NOT NULL, tripped_at timestamptz NOT NULL,
        resolved_at timestamptz, resolved_by jsonb, resolution_note text, PRIMARY KEY (engine_id, event_id))`,
      `CREATE INDEX governance_breaker_events_by_time ON governance_breaker_events (engine_id, tripped_at)`,
      `CREATE TABLE governance_paused_commands (
        engine_id text NOT NULL, command_type text NOT NULL, event_id text NOT NULL,
        paused_at timestamptz NOT NULL, PRIMARY KEY (engine_id, command_type))`,
      `CREATE TABLE governance_reports (
        engine_id text NOT NULL, report_id text NOT NULL, cycle_trigger text NOT NULL, ran_at timestamptz NOT NULL,
        phase text NOT NULL, readiness_score integer NOT NULL, readiness_status text NOT NULL,
        proposed boolean NOT NULL, proposal_id text, report jsonb NOT NULL, PRIMARY KEY (engine_id, report_id))`,
      `CREATE INDEX governance_reports_by_time ON governance_reports (engine_id, ran_at)`,
      `CREATE TABLE governance_proposals (
        engine_id text NOT NULL, proposal_id text NOT NULL, from_phase text NOT NULL, target_phase text NOT NULL,
        status text NOT NULL, proposal jsonb NOT NULL, approvals jsonb NOT NULL, outstanding jsonb NOT NULL,
        created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL, closed_at timestamptz,
        closed_by jsonb, close_reason text, PRIMARY KEY (engine_id, proposal_id))`,
      `CREATE INDEX governance_proposals_by_time ON governance_proposals (engine_id, created_at)`,
      `CREATE TABLE governance_approvers (
        principal_id text PRIMARY KEY, roles jsonb NOT NULL, updated_by jsonb NOT NULL,
        updated_at timestamptz NOT NULL)`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
    await grantReadModels(queryRunner, TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...TABLES].reverse()) await queryRunner.query(`DROP TABLE ${table}`);
  }
}
