import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { dataOf, perMessage, type Projection } from './projection';

/** Heimdall's confidence charter per recommendation domain, with its last refused promotion. */
@Entity({ name: 'heimdall_policies' })
export class HeimdallPolicyRow {
  @PrimaryColumn({ type: 'text' }) domain!: string;
  @Column({ name: 'min_confidence', type: 'double precision' }) minConfidence!: number;
  @Column({ name: 'min_sandbox_trials', type: 'integer' }) minSandboxTrials!: number;
  @Column({ name: 'min_sandbox_success_rate', type: 'double precision' }) minSandboxSuccessRate!: number;
  @Column({ name: 'prod_use_enabled', type: 'boolean' }) prodUseEnabled!: boolean;
  @Column({ name: 'prod_use_changed_by', type: 'jsonb', nullable: true }) prodUseChangedBy!: Record<
    string,
    unknown
  > | null;
  @Column({ name: 'last_refused_at', type: 'timestamptz', nullable: true }) lastRefusedAt!: Date | null;
  @Column({ name: 'last_refused', type: 'jsonb', nullable: true }) lastRefused!: Record<
    string,
    unknown
  > | null;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** Cumulative sandbox scorecard per domain. */
@Entity({ name: 'heimdall_scorecards' })
export class HeimdallScorecardRow {
  @PrimaryColumn({ type: 'text' }) domain!: string;
  @Column({ type: 'bigint' }) trials!: string;
  @Column({ type: 'bigint' }) successes!: string;
  @Column({ name: 'last_trial_at', type: 'timestamptz' }) lastTrialAt!: Date;
}

/** Sandbox scorecard per domain and UTC day (the trial's own day). */
@Entity({ name: 'heimdall_scorecard_days' })
export class HeimdallScorecardDayRow {
  @PrimaryColumn({ type: 'text' }) domain!: string;
  @PrimaryColumn({ type: 'text' }) day!: string;
  @Column({ type: 'bigint' }) trials!: string;
  @Column({ type: 'bigint' }) successes!: string;
}

/** Every evaluation record (decisions stream), for the evaluation queries of the Heimdall API. */
@Entity({ name: 'heimdall_evaluations' })
@Index(['decidedAt', 'evaluationId'])
@Index(['engineId', 'decidedAt'])
@Index(['domain', 'decidedAt'])
export class HeimdallEvaluationRow {
  @PrimaryColumn({ name: 'evaluation_id', type: 'text' }) evaluationId!: string;
  @Column({ name: 'engine_id', type: 'text' }) engineId!: string;
  @Column({ type: 'text' }) domain!: string;
  @Column({ type: 'text' }) outcome!: string;
  @Column({ type: 'text' }) action!: string;
  @Column({ name: 'risk_level', type: 'text' }) riskLevel!: string;
  @Column({ type: 'double precision' }) confidence!: number;
  @Column({ name: 'recommendation_id', type: 'text', nullable: true }) recommendationId!: string | null;
  @Column({ name: 'request_id', type: 'text', nullable: true }) requestId!: string | null;
  @Column({ name: 'policy_revision', type: 'text', nullable: true }) policyRevision!: string | null;
  @Column({ name: 'decided_at', type: 'timestamptz' }) decidedAt!: Date;
  @Column({ type: 'jsonb' }) gates!: unknown[];
  @Column({ type: 'jsonb' }) scorecard!: Record<string, unknown>;
  @Column({ type: 'jsonb' }) request!: Record<string, unknown>;
}

type Thresholds = { minConfidence: number; minSandboxTrials: number; minSandboxSuccessRate: number };
type Operator = { domain: string; actor: Record<string, unknown>; reason: string; at: string };

/** Heimdall's policies and scorecards (events stream) and its evaluation records (decisions stream). */
export const heimdallProjection: Projection = {
  name: 'heimdall',
  tables: ['heimdall_policies', 'heimdall_scorecards', 'heimdall_scorecard_days', 'heimdall_evaluations'],
  entities: [HeimdallPolicyRow, HeimdallScorecardRow, HeimdallScorecardDayRow, HeimdallEvaluationRow],
  ...perMessage({
    'heimdall.PolicyDefined': (sql, message) => {
      const d = dataOf<{ domain: string; thresholds: Thresholds; at: string }>(message);
      sql.add(
        `INSERT INTO heimdall_policies (domain, min_confidence, min_sandbox_trials, min_sandbox_success_rate,
           prod_use_enabled, updated_at) VALUES ($1, $2, $3, $4, false, $5)
         ON CONFLICT (domain) DO UPDATE SET min_confidence = EXCLUDED.min_confidence,
           min_sandbox_trials = EXCLUDED.min_sandbox_trials,
           min_sandbox_success_rate = EXCLUDED.min_sandbox_success_rate, updated_at = EXCLUDED.updated_at`,
        [
          d.domain,
          d.thresholds.minConfidence,
          d.thresholds.minSandboxTrials,
          d.thresholds.minSandboxSuccessRate,
          d.at,
        ],
      );
    },
    'heimdall.ProdUseEnabled': (sql, message) => {
      const d = dataOf<Operator>(message);
      sql.add(
        `UPDATE heimdall_policies SET prod_use_enabled = true, prod_use_changed_by = $2, updated_at = $3
         WHERE domain = $1`,
        [d.domain, JSON.stringify({ actor: d.actor, reason: d.reason }), d.at],
      );
    },
    'heimdall.ProdUseDisabled': (sql, message) => {
      const d = dataOf<Operator>(message);
      sql.add(
        `UPDATE heimdall_policies SET prod_use_enabled = false, prod_use_changed_by = $2, updated_at = $3
         WHERE domain = $1`,
        [d.domain, JSON.stringify({ actor: d.actor, reason: d.reason }), d.at],
      );
    },
    'heimdall.ProdUseRefused': (sql, message) => {
      const d = dataOf<Operator & { scorecard: unknown; failing: unknown[] }>(message);
      sql.add(`UPDATE heimdall_policies SET last_refused_at = $2, last_refused = $3 WHERE domain = $1`, [
        d.domain,
        d.at,
        JSON.stringify({ actor: d.actor, reason: d.reason, scorecard: d.scorecard, failing: d.failing }),
      ]);
    },
    'heimdall.SandboxTrialRecorded': (sql, message) => {
      const d = dataOf<{ domain: string; success: boolean; day: string; at: string }>(message);
      const hit = d.success ? 1 : 0;
      sql.add(
        `INSERT INTO heimdall_scorecards (domain, trials, successes, last_trial_at) VALUES ($1, 1, $2, $3)
         ON CONFLICT (domain) DO UPDATE SET trials = heimdall_scorecards.trials + 1,
           successes = heimdall_scorecards.successes + EXCLUDED.successes,
           last_trial_at = GREATEST(heimdall_scorecards.last_trial_at, EXCLUDED.last_trial_at)`,
        [d.domain, hit, d.at],
      );
      sql.add(
        `INSERT INTO heimdall_scorecard_days (domain, day, trials, successes) VALUES ($1, $2, 1, $3)
         ON CONFLICT (domain, day) DO UPDATE SET trials = heimdall_scorecard_days.trials + 1,
           successes = heimdall_scorecard_days.successes + EXCLUDED.successes`,
        [d.domain, d.day, hit],
      );
    },
    'heimdall.RecommendationEvaluated': (sql, message) => {
      const { request, reply } = dataOf<{
        request: { confidence: number; requestId?: string };
        reply: {
          evaluationId: string;
          engineId: string;
          domain: string;
          recommendationId?: string;
          outcome: string;
          action: string;
          riskLevel: string;
          policyRevision: string | null;
          decidedAt: string;
          gates: unknown[];
          scorecard: unknown;
        };
      }>(message);
      sql.add(
        `INSERT INTO heimdall_evaluations (evaluation_id, engine_id, domain, outcome, action, risk_level, confidence,
           recommendation_id, request_id, policy_revision, decided_at, gates, scorecard, request)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (evaluation_id) DO NOTHING`,
        [
          reply.evaluationId,
          reply.engineId,
          reply.domain,
          reply.outcome,
          reply.action,
          reply.riskLevel,
          request.confidence,
          reply.recommendationId ?? null,
          request.requestId ?? null,
          reply.policyRevision,
          reply.decidedAt,
          JSON.stringify(reply.gates),
          JSON.stringify(reply.scorecard),
          JSON.stringify(request),
        ],
      );
    },
  }),
};
