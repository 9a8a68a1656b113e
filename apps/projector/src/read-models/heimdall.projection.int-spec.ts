import { catalogue, type Envelope } from '@bifrost/contracts';
import { createEnvelope } from '@bifrost/messaging';
import { publishAll, startProjectorHarness, type ProjectorHarness } from '../testing/projector.fixtures';

const OPERATOR = { kind: 'operator' as const, id: 'alice' };
const SEED = { kind: 'system' as const, id: 'heimdall/seed' };
const THRESHOLDS = { minConfidence: 0.92, minSandboxTrials: 2, minSandboxSuccessRate: 0.5 };
const T = (minute: number) => `2026-11-21T12:${String(minute).padStart(2, '0')}:00.000Z`;

describe('heimdall read models against real NATS and Postgres', () => {
  let h: ProjectorHarness;
  let story: Envelope[];

  beforeAll(async () => {
    h = await startProjectorHarness('projheim');
    h.startProjector();
    story = heimdallStory();
    await publishAll(h.client, story);
    await h.caughtUp();
  });
  afterAll(() => h?.stop());

  describe('Given one domain promoted after its sandbox trials, and evaluations', () => {
    it('should have published every heimdall event and decision type in the catalogue', () => {
      const published = new Set(story.map((e) => e.type));
      const types = catalogue.definitions
        .filter((d) => d.kind !== 'ingest' && d.type.startsWith('heimdall.'))
        .map((d) => d.type);
      expect(types.filter((t) => !published.has(t))).toEqual([]);
    });

    it('should keep the policy with its thresholds, prod use and the last refused promotion', async () => {
      expect(
        await h.rows(
          `SELECT domain, min_confidence, min_sandbox_trials, min_sandbox_success_rate, prod_use_enabled,
             prod_use_changed_by->'actor'->>'id' AS promoted_by, last_refused->'failing'->0->>'name' AS refused_gate,
             updated_at FROM heimdall_policies`,
        ),
      ).toEqual([
        {
          domain: 'WHOLESALE_OFFER',
          min_confidence: 0.92,
          min_sandbox_trials: 2,
          min_sandbox_success_rate: 0.5,
          prod_use_enabled: true,
          promoted_by: 'alice',
          refused_gate: 'heimdall.sandboxTrials',
          updated_at: new Date(T(6)),
        },
      ]);
    });

    it('should keep the scorecard cumulative and per day', async () => {
      expect(
        await h.rows(`SELECT domain, trials, successes, last_trial_at FROM heimdall_scorecards`),
      ).toEqual([{ domain: 'WHOLESALE_OFFER', trials: 3, successes: 2, last_trial_at: new Date(T(5)) }]);
      expect(
        await h.rows(`SELECT domain, day, trials, successes FROM heimdall_scorecard_days ORDER BY day`),
      ).toEqual([
        { domain: 'WHOLESALE_OFFER', day: '2026-11-20', trials: 1, successes: 0 },
        { domain: 'WHOLESALE_OFFER', day: '2026-11-21', trials: 2, successes: 2 },
      ]);
    });

    it('should keep every evaluation with its gates', async () => {
      expect(
        await h.rows(
          `SELECT engine_id, domain, outcome, action, risk_level, confidence, recommendation_id, request_id,
             jsonb_array_length(gates) AS gates FROM heimdall_evaluations ORDER BY decided_at`,
        ),
      ).toEqual([
        {
          engine_id: 'offer-bot',
          domain: 'WHOLESALE_OFFER',
          outcome: 'INCONCLUSIVE',
          action: 'REQUIRE_APPROVAL',
          risk_level: 'LOW',
          confidence: 0.95,
          recommendation_id: null,
          request_id: null,
          gates: 5,
        },
        {
          engine_id: 'offer-bot',
          domain: 'WHOLESALE_OFFER',
          outcome: 'ELIGIBLE',
          action: 'ALLOW',
          risk_level: 'MEDIUM',
          confidence: 0.95,
          recommendation_id: 'offer-1',
          request_id: 'req-1',
          gates: 5,
        },
      ]);
    });
  });

  function heimdallStory(): Envelope[] {
    const domainEvent = (type: string, actor: typeof OPERATOR | typeof SEED, data: Record<string, unknown>) =>
      createEnvelope({
        type: `heimdall.${type}`,
        subject: h.ns.naming.eventSubject('heimdall', 'domain', 'WHOLESALE_OFFER'),
        source: 'heimdall',
        actor,
        data: { domain: 'WHOLESALE_OFFER', ...data },
      });
    const trial = (trialId: string, success: boolean, day: string, minute: number) =>
      domainEvent(
        'SandboxTrialRecorded',
        { kind: 'operator', id: 'x' },
        {
          engineId: 'offer-bot',
          trialId,
          success,
          day,
          occurredAt: `${day}T11:00:00.000Z`,
          at: T(minute),
        },
      );
    const scorecard = (trials: number, successes: number) => ({
      trials,
      successes,
      successRate: trials === 0 ? null : successes / trials,
    });
    const gate = (name: string, result: string) => ({
      name,
      outcome: result === 'PASS' ? 'ALLOW' : 'REQUIRE_APPROVAL',
      result,
      value: null,
      threshold: null,
      distanceToTrip: null,
    });
    const evaluation = (
      outcome: string,
      action: string,
      riskLevel: string,
      minute: number,
      extra: Record<string, string>,
    ) => {
      const request = { engineId: 'offer-bot', domain: 'WHOLESALE_OFFER', confidence: 0.95, ...extra };
      const reply = {
        evaluationId: `0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a${String(minute).padStart(2, '0')}`,
        engineId: 'offer-bot',
        domain: 'WHOLESALE_OFFER',
        ...(extra['recommendationId'] ? { recommendationId: extra['recommendationId'] } : {}),
        outcome,
        eligible: outcome === 'ELIGIBLE',
        action,
        riskLevel,
        gates: ['policy', 'confidence', 'sandboxTrials', 'sandboxSuccessRate', 'prodUse'].map((g) =>
          gate(
            `heimdall.${g}`,
            outcome === 'ELIGIBLE' || g === 'policy' || g === 'confidence' ? 'PASS' : 'PENDING',
          ),
        ),
        scorecard: scorecard(0, 0),
        policyRevision: 'a'.repeat(64),
        decidedAt: T(minute),
      };
      return createEnvelope({
        id: reply.evaluationId,
        type: 'heimdall.RecommendationEvaluated',
        subject: h.ns.naming.decisionSubject('heimdall', 'offer-bot'),
        source: 'heimdall',
        actor: { kind: 'engine', id: 'offer-bot' },
        occurredAt: reply.decidedAt,
        data: { request, reply },
      });
    };
    const base = { actor: OPERATOR, reason: 'charter' };
    return [
      domainEvent('PolicyDefined', SEED, {
        thresholds: { ...THRESHOLDS, minSandboxTrials: 50 },
        previous: null,
        actor: SEED,
        reason: 'first start',
        at: T(0),
      }),
      domainEvent('PolicyDefined', OPERATOR, {
        thresholds: THRESHOLDS,
        previous: { ...THRESHOLDS, minSandboxTrials: 50 },
        ...base,
        at: T(1),
      }),
      evaluation('INCONCLUSIVE', 'REQUIRE_APPROVAL', 'LOW', 2, {}),
      domainEvent('ProdUseRefused', OPERATOR, {
        scorecard: scorecard(0, 0),
        thresholds: THRESHOLDS,
        failing: [
          gate('heimdall.sandboxTrials', 'PENDING'),
          gate('heimdall.sandboxSuccessRate', 'PENDING'),
        ].map(({ result: _result, ...check }) => check),
        ...base,
        at: T(2),
      }),
      trial('t-1', false, '2026-11-20', 3),
      trial('t-2', true, '2026-11-21', 4),
      trial('t-3', true, '2026-11-21', 5),
      domainEvent('ProdUseEnabled', OPERATOR, {
        scorecard: scorecard(3, 2),
        thresholds: THRESHOLDS,
        ...base,
        at: T(6),
      }),
      domainEvent('ProdUseDisabled', OPERATOR, { ...base, at: T(7) }),
      domainEvent('ProdUseEnabled', OPERATOR, {
        scorecard: scorecard(3, 2),
        thresholds: THRESHOLDS,
        ...base,
        at: T(6),
      }),
      evaluation('ELIGIBLE', 'ALLOW', 'MEDIUM', 8, { recommendationId: 'offer-1', requestId: 'req-1' }),
    ];
  }
});
