import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { grantReadModels } from './1732300000000-audit-log';

const TABLES = [
  'heimdall_policies',
  'heimdall_scorecards',
  'heimdall_scorecard_days',
  'heimdall_evaluations',
];

/** Read models of Heimdall's policies, sandbox scorecards and evaluations (docs/heimdall.md). */
export class HeimdallReadModels1732300000700 implements MigrationInterface {
  readonly name = 'HeimdallReadModels1732300000700';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE heimdall_policies (
        domain text PRIMARY KEY, min_confidence double precision NOT NULL, min_sandbox_trials integer NOT NULL,
        min_sandbox_success_rate double precision NOT NULL, prod_use_enabled boolean NOT NULL,
        prod_use_changed_by jsonb, last_refused_at timestamptz, last_refused jsonb, updated_at timestamptz NOT NULL)`,
      `CREATE TABLE heimdall_scorecards (
        domain text PRIMARY KEY, trials bigint NOT NULL, successes bigint NOT NULL, last_trial_at timestamptz NOT NULL)`,
      `CREATE TABLE heimdall_scorecard_days (
        domain text NOT NULL, day text NOT NULL, trials bigint NOT NULL, successes bigint NOT NULL,
        PRIMARY KEY (domain, day))`,
      `CREATE TABLE heimdall_evaluations (
        evaluation_id text PRIMARY KEY, engine_id text NOT NULL, domain text NOT NULL, outcome text NOT NULL,
        action text NOT NULL, risk_level text NOT NULL, confidence double precision NOT NULL,
        recommendation_id text, request_id text, policy_revision text, decided_at timestamptz NOT NULL,
        gates jsonb NOT NULL, scorecard jsonb NOT NULL, request jsonb NOT NULL)`,
      `CREATE INDEX heimdall_evaluations_decided_at ON heimdall_evaluations (decided_at, evaluation_id)`,
      `CREATE INDEX heimdall_evaluations_engine ON heimdall_evaluations (engine_id, decided_at)`,
      `CREATE INDEX heimdall_evaluations_domain ON heimdall_evaluations (domain, decided_at)`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
    await grantReadModels(queryRunner, TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...TABLES].reverse()) await queryRunner.query(`DROP TABLE ${table}`);
  }
}
