import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { grantReadModels } from './1732300000000-audit-log';

const TABLES = [
  'control_go_live',
  'control_checklist',
  'control_kill_switches',
  'control_execution_classes',
  'control_engines',
  'strategies',
  'strategy_outcomes',
  'strategy_maturity_changes',
  'execution_tokens',
  'approvals',
  'gate_decisions',
  'service_starts',
  'canary_requests',
  'governance_phases',
];

/** Read models of the gate, system, canary and governance events (docs/projector.md). */
export class GateReadModels1732300000100 implements MigrationInterface {
  readonly name = 'GateReadModels1732300000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE control_go_live (
        id smallint PRIMARY KEY CHECK (id = 1), enabled boolean NOT NULL, reason text, changed_by text,
        changed_at timestamptz, last_refused_at timestamptz, last_refused_items jsonb)`,
      `CREATE TABLE control_checklist (
        item text PRIMARY KEY, passed boolean NOT NULL, reported_by text NOT NULL, evidence text,
        recorded_at timestamptz NOT NULL)`,
      `CREATE TABLE control_kill_switches (
        scope text PRIMARY KEY, engaged boolean NOT NULL, mode text NOT NULL, reason text NOT NULL, cause text,
        engaged_by text NOT NULL, engaged_at timestamptz NOT NULL, released_by text, released_at timestamptz)`,
      `CREATE TABLE control_execution_classes (
        action_kind text PRIMARY KEY, execution_class text NOT NULL, reason text NOT NULL, set_by text NOT NULL,
        set_at timestamptz NOT NULL)`,
      `CREATE TABLE control_engines (
        engine_id text PRIMARY KEY, mode text NOT NULL, mode_set_at timestamptz, paused boolean NOT NULL,
        pause_reason text, pause_cause text, cooldown_until timestamptz, paused_at timestamptz, resumed_at timestamptz,
        autonomy_phase text, whitelist jsonb, phase_applied_at timestamptz)`,
      `CREATE TABLE strategies (
        engine_id text NOT NULL, strategy_id text NOT NULL, level text NOT NULL, level_changed_at timestamptz,
        demotion_pending boolean NOT NULL, capital jsonb, registered_at timestamptz,
        outcomes integer NOT NULL, wins integer NOT NULL, losses integer NOT NULL, pnl_total bigint NOT NULL,
        last_outcome_id text, last_outcome_pnl jsonb, last_outcome_at timestamptz, baseline jsonb,
        paused boolean NOT NULL, pause_reason text, pause_drift jsonb, cooldown_until timestamptz, paused_by text,
        paused_at timestamptz, resumed_at timestamptz,
        PRIMARY KEY (engine_id, strategy_id))`,
      `CREATE INDEX strategies_level ON strategies (level)`,
      `CREATE TABLE strategy_outcomes (
        event_id text PRIMARY KEY, outcome_id text NOT NULL, engine_id text NOT NULL, strategy_id text NOT NULL,
        pnl_amount bigint NOT NULL, pnl_currency text NOT NULL, level text NOT NULL, recorded_at timestamptz NOT NULL)`,
      `CREATE INDEX strategy_outcomes_by_strategy ON strategy_outcomes (engine_id, strategy_id, recorded_at)`,
      `CREATE TABLE strategy_maturity_changes (
        event_id text PRIMARY KEY, engine_id text NOT NULL, strategy_id text NOT NULL, kind text NOT NULL,
        from_level text NOT NULL, to_level text NOT NULL, detail jsonb NOT NULL, changed_at timestamptz NOT NULL)`,
      `CREATE INDEX strategy_maturity_changes_by_strategy ON strategy_maturity_changes (engine_id, strategy_id, changed_at)`,
      `CREATE TABLE execution_tokens (
        token_id text PRIMARY KEY, engine_id text NOT NULL, strategy_id text NOT NULL, status text NOT NULL,
        scope jsonb NOT NULL, max_notional jsonb, expires_at timestamptz NOT NULL, single_use boolean NOT NULL,
        bound_action_hash text, approval_id text, issued_by text NOT NULL, issued_at timestamptz NOT NULL,
        revoked_by text, revoked_at timestamptz, revoke_reason text, uses integer NOT NULL,
        last_used_at timestamptz, refusals integer NOT NULL, last_refusal jsonb)`,
      `CREATE INDEX execution_tokens_by_strategy ON execution_tokens (engine_id, strategy_id, issued_at)`,
      `CREATE TABLE approvals (
        approval_id text PRIMARY KEY, engine_id text NOT NULL, strategy_id text NOT NULL, status text NOT NULL,
        action_hash text NOT NULL, action jsonb NOT NULL, requested_by text NOT NULL,
        requested_at timestamptz NOT NULL, expires_at timestamptz NOT NULL, decided_by text, decided_at timestamptz,
        token_id text, token_expires_at timestamptz, reject_reason text)`,
      `CREATE INDEX approvals_by_status ON approvals (status, requested_at)`,
      `CREATE INDEX approvals_by_strategy ON approvals (engine_id, strategy_id, requested_at)`,
      `CREATE TABLE gate_decisions (
        decision_id text PRIMARY KEY, event_id text NOT NULL, decided_at timestamptz NOT NULL,
        engine_id text NOT NULL, strategy_id text NOT NULL, action text NOT NULL, risk_level text NOT NULL,
        mode text NOT NULL, size_multiplier double precision NOT NULL, action_kind text NOT NULL,
        action_hash text NOT NULL, policy_revision text NOT NULL, approval_id text, request_id text,
        latency_micros integer, verdict jsonb NOT NULL, request jsonb NOT NULL, stream_seq bigint NOT NULL)`,
      // Cursor pagination is (decided_at, decision_id) under each filter.
      `CREATE INDEX gate_decisions_decided_at ON gate_decisions (decided_at, decision_id)`,
      `CREATE INDEX gate_decisions_engine ON gate_decisions (engine_id, decided_at)`,
      `CREATE INDEX gate_decisions_strategy ON gate_decisions (strategy_id, decided_at)`,
      `CREATE INDEX gate_decisions_action ON gate_decisions (action, decided_at)`,
      `CREATE INDEX gate_decisions_risk_level ON gate_decisions (risk_level, decided_at)`,
      `CREATE TABLE service_starts (
        event_id text PRIMARY KEY, service text NOT NULL, instance_id text NOT NULL, version text NOT NULL,
        previous_starts integer NOT NULL, started_at timestamptz NOT NULL)`,
      `CREATE INDEX service_starts_by_service ON service_starts (service, started_at)`,
      `CREATE TABLE canary_requests (
        event_id text PRIMARY KEY, kind text NOT NULL, probe_name text, engine_id text, mode text,
        reason text NOT NULL, consecutive_failures integer, requested_at timestamptz NOT NULL)`,
      `CREATE INDEX canary_requests_requested_at ON canary_requests (requested_at)`,
      `CREATE TABLE governance_phases (
        engine_id text PRIMARY KEY, phase text NOT NULL, whitelist jsonb NOT NULL, reason text NOT NULL,
        changed_at timestamptz NOT NULL)`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
    await grantReadModels(queryRunner, TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...TABLES].reverse()) await queryRunner.query(`DROP TABLE ${table}`);
  }
}
