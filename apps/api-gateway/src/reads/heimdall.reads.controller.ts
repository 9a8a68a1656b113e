import { Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import {
  Actor,
  Check,
  EntityId,
  EvaluateRecommendationReply,
  EvaluateRecommendationRequest,
  EVALUATION_OUTCOMES,
  HeimdallDomainId,
  HeimdallGateCheck,
  Reason,
  RISK_LEVELS,
  RiskLevelSchema,
  ScorecardTotals,
  Timestamp,
  literals,
  object,
} from '@bifrost/contracts';
import { ApiController, Route, ValidParams, ValidQuery } from '../http/route';
import { Cursor, Day, Limit, ListQuery, nullable, pageOf } from '../http/schemas';
import { assertRangeOrder, ReadModels, where } from './read-models.service';

/** Per-day rows per answer: narrow with `domain`, `from` and `to` when `truncated` says there are more. */
const MAX_DAYS = 1000;
const ScorecardsQuery = object({
  domain: Type.Optional(HeimdallDomainId),
  /** First day of the per-day rows (inclusive). */
  from: Type.Optional(Day),
  /** The day after the last of the per-day rows (exclusive, as every range's `to`). */
  to: Type.Optional(Day),
});

const EvaluationsQuery = object({
  engineId: Type.Optional(EntityId),
  domain: Type.Optional(HeimdallDomainId),
  outcome: Type.Optional(literals(EVALUATION_OUTCOMES)),
  riskLevel: Type.Optional(literals(RISK_LEVELS)),
  from: Type.Optional(Timestamp),
  to: Type.Optional(Timestamp),
  limit: Limit,
  cursor: Cursor,
});
const EvaluationParams = object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const EVALUATION_COLUMNS =
  'evaluation_id, decided_at, engine_id, domain, outcome, action, risk_level, confidence, recommendation_id, request_id, policy_revision, gates, scorecard';

/** `successRate`: successes / trials (null without trials). */
const CumulativeScorecardRow = object({
  domain: HeimdallDomainId,
  trials: Type.Integer(),
  successes: Type.Integer(),
  successRate: nullable(Type.Number()),
  lastTrialAt: Timestamp,
});
const ScorecardDayRow = object({
  domain: HeimdallDomainId,
  day: Day,
  trials: Type.Integer(),
  successes: Type.Integer(),
  successRate: nullable(Type.Number()),
});
/** Who last switched prod use, and the last refused promotion with the scorecard and gates that failed. */
const PolicyRow = object({
  domain: HeimdallDomainId,
  minConfidence: Type.Number(),
  minSandboxTrials: Type.Integer(),
  minSandboxSuccessRate: Type.Number(),
  prodUseEnabled: Type.Boolean(),
  prodUseChangedBy: nullable(object({ actor: Actor, reason: Reason })),
  lastRefusedAt: nullable(Timestamp),
  lastRefused: nullable(
    object({ actor: Actor, reason: Reason, scorecard: ScorecardTotals, failing: Type.Array(Check) }),
  ),
  updatedAt: Timestamp,
});
const EvaluationRow = object({
  evaluationId: Type.String(),
  decidedAt: Timestamp,
  engineId: EntityId,
  domain: HeimdallDomainId,
  outcome: literals(EVALUATION_OUTCOMES),
  action: EvaluateRecommendationReply.properties.action,
  riskLevel: RiskLevelSchema,
  confidence: Type.Number(),
  recommendationId: nullable(Type.String()),
  requestId: nullable(Type.String()),
  policyRevision: nullable(Type.String()),
  gates: Type.Array(HeimdallGateCheck),
  scorecard: ScorecardTotals,
});

/** Heimdall's read models: policies with their promotion history, scorecards per day, evaluations. */
@ApiController('heimdall', 'heimdall')
export class HeimdallReadController {
  constructor(@Inject(ReadModels) private readonly read: ReadModels) {}

  @Route({
    method: 'GET',
    path: 'scorecards',
    summary:
      'Sandbox scorecards per domain: cumulative (trials, successes, success rate) and per UTC day, newest day first',
    access: 'viewer',
    query: ScorecardsQuery,
    response: object({
      cumulative: Type.Array(CumulativeScorecardRow),
      days: Type.Array(ScorecardDayRow),
      truncated: Type.Boolean(),
    }),
    example: {
      response: {
        cumulative: [
          {
            domain: 'WHOLESALE_OFFER',
            trials: 120,
            successes: 113,
            successRate: 0.9417,
            lastTrialAt: '2026-11-21T16:02:11.482Z',
          },
        ],
        days: [
          { domain: 'WHOLESALE_OFFER', day: '2026-11-21', trials: 14, successes: 13, successRate: 0.9286 },
        ],
        truncated: false,
      },
    },
  })
  async scorecards(@ValidQuery() q: Static<typeof ScorecardsQuery>) {
    assertRangeOrder(q.from, q.to);
    const cumulativeParams: unknown[] = [];
    const cumulativeFilter = where([['domain = ?', q.domain]], cumulativeParams);
    const dayParams: unknown[] = [];
    const dayFilter = where(
      [
        ['domain = ?', q.domain],
        ['day >= ?', q.from],
        ['day < ?', q.to],
      ],
      dayParams,
    );
    const [cumulative, days] = await this.read.snapshot([
      {
        sql: `SELECT domain, trials, successes,
           successes::float8 / NULLIF(trials, 0) AS success_rate, last_trial_at
         FROM heimdall_scorecards ${cumulativeFilter} ORDER BY domain`,
        params: cumulativeParams,
      },
      {
        sql: `SELECT domain, day, trials, successes,
           successes::float8 / NULLIF(trials, 0) AS success_rate
         FROM heimdall_scorecard_days ${dayFilter} ORDER BY day DESC, domain LIMIT ${MAX_DAYS + 1}`,
        params: dayParams,
      },
    ]);
    return { cumulative, days: days.slice(0, MAX_DAYS), truncated: days.length > MAX_DAYS };
  }

  @Route({
    method: 'GET',
    path: 'policy-history',
    summary:
      'Domain policies from the read model, by domain, with who last changed prod use and the last refused promotion, with cursor pagination (pass nextCursor as cursor)',
    access: 'viewer',
    query: ListQuery,
    response: pageOf(PolicyRow),
  })
  policyHistory(@ValidQuery() q: Static<typeof ListQuery>) {
    return this.read.page({
      table: 'heimdall_policies',
      columns: '*',
      filters: [],
      // One row per domain: the domain alone is unique, so it is its own tie-breaker.
      key: ['domain', 'domain'],
      keyType: 'text',
      order: 'asc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }

  @Route({
    method: 'GET',
    path: 'evaluations',
    summary:
      'Recommendation evaluations, newest first, with filters and cursor pagination (pass nextCursor as cursor)',
    access: 'viewer',
    query: EvaluationsQuery,
    response: pageOf(EvaluationRow),
  })
  evaluations(@ValidQuery() q: Static<typeof EvaluationsQuery>) {
    assertRangeOrder(q.from, q.to);
    return this.read.page({
      table: 'heimdall_evaluations',
      columns: EVALUATION_COLUMNS,
      filters: [
        ['decided_at >= ?', q.from],
        ['decided_at < ?', q.to],
        ['engine_id = ?', q.engineId],
        ['domain = ?', q.domain],
        ['outcome = ?', q.outcome],
        ['risk_level = ?', q.riskLevel],
      ],
      key: ['decided_at', 'evaluation_id'],
      keyType: 'timestamptz',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }

  @Route({
    method: 'GET',
    path: 'evaluations/:id',
    summary: 'One evaluation with its request and every gate explained',
    access: 'viewer',
    params: EvaluationParams,
    response: object({ ...EvaluationRow.properties, request: EvaluateRecommendationRequest }),
  })
  one(@ValidParams() p: Static<typeof EvaluationParams>) {
    return this.read.one(
      `SELECT ${EVALUATION_COLUMNS}, request FROM heimdall_evaluations WHERE evaluation_id = $1`,
      [p.id],
      `evaluation ${p.id}`,
    );
  }
}
