import type { HeimdallThresholds } from '@bifrost/contracts';
import { evaluateRecommendation, type GatedDomain } from './evaluation';
import { addTrial, EMPTY_SCORECARD, type Scorecard } from './scorecard';

const THRESHOLDS: HeimdallThresholds = {
  minConfidence: 0.92,
  minSandboxTrials: 50,
  minSandboxSuccessRate: 0.8,
};

describe('Heimdall evaluation (gate stacking, AND logic)', () => {
  describe('Given a domain without a policy', () => {
    it('should not be eligible, whatever the confidence and the scorecard', () => {
      const evaluation = evaluateRecommendation(
        { policy: null, scorecard: scorecard(100, 100) },
        { confidence: 1 },
      );
      expect(evaluation).toMatchObject({ outcome: 'NOT_ELIGIBLE', eligible: false, action: 'BLOCK' });
      expect(gate(evaluation, 'heimdall.policy')).toMatchObject({
        result: 'FAIL',
        value: false,
        outcome: 'BLOCK',
      });
      expect(evaluation.gates.every((g) => g.result === 'FAIL')).toBe(true);
      expect(gate(evaluation, 'heimdall.sandboxTrials')).toMatchObject({ value: 100, threshold: null });
    });
  });

  describe('Given a promoted domain with 50 trials at exactly 80 % success', () => {
    const domain = promoted(scorecard(50, 40));

    it('should be eligible at exactly the confidence threshold, every gate with value, threshold and distance', () => {
      const evaluation = evaluateRecommendation(domain, { confidence: 0.92 });
      expect(evaluation).toMatchObject({ outcome: 'ELIGIBLE', eligible: true, action: 'ALLOW' });
      expect(evaluation.scorecard).toEqual({ trials: 50, successes: 40, successRate: 0.8 });
      expect(evaluation.gates).toEqual([
        expect.objectContaining({ name: 'heimdall.policy', result: 'PASS', value: true, threshold: true }),
        expect.objectContaining({
          name: 'heimdall.confidence',
          result: 'PASS',
          outcome: 'ALLOW',
          value: 0.92,
          threshold: 0.92,
          distanceToTrip: 0,
        }),
        expect.objectContaining({
          name: 'heimdall.sandboxTrials',
          result: 'PASS',
          value: 50,
          threshold: 50,
          distanceToTrip: 0,
        }),
        expect.objectContaining({
          name: 'heimdall.sandboxSuccessRate',
          result: 'PASS',
          value: 0.8,
          threshold: 0.8,
          distanceToTrip: 0,
        }),
        expect.objectContaining({ name: 'heimdall.prodUse', result: 'PASS', value: true, threshold: true }),
      ]);
    });

    it('should not be eligible just below the confidence threshold', () => {
      const evaluation = evaluateRecommendation(domain, { confidence: 0.919 });
      expect(evaluation).toMatchObject({ outcome: 'NOT_ELIGIBLE', action: 'BLOCK' });
      expect(gate(evaluation, 'heimdall.confidence')).toMatchObject({
        result: 'FAIL',
        outcome: 'BLOCK',
        distanceToTrip: -0.001,
      });
    });

    it('should report a confidence short by less than the rounding as short, not as exactly at the bar', () => {
      const check = gate(evaluateRecommendation(domain, { confidence: 0.9199999999 }), 'heimdall.confidence');
      expect(check).toMatchObject({ result: 'FAIL' });
      expect(check?.distanceToTrip).toBeLessThan(0);
    });

    it('should report the headroom above the threshold as a positive distance', () => {
      expect(gate(evaluateRecommendation(domain, { confidence: 0.95 }), 'heimdall.confidence')).toMatchObject(
        {
          distanceToTrip: 0.03,
        },
      );
    });
  });

  describe('Given a promoted domain with 50 trials at 39 successes (78 %)', () => {
    it('should not be eligible: the success rate fails', () => {
      const evaluation = evaluateRecommendation(promoted(scorecard(50, 39)), { confidence: 0.99 });
      expect(evaluation.outcome).toBe('NOT_ELIGIBLE');
      expect(gate(evaluation, 'heimdall.sandboxSuccessRate')).toMatchObject({
        result: 'FAIL',
        value: 0.78,
        distanceToTrip: -0.02,
      });
    });
  });

  describe('Given a promoted domain whose success rate rounds to its bar', () => {
    it.each([
      [5000, 3998, 'FAIL', 'success rate 0.7996 < 0.8'],
      [5000, 4002, 'PASS', 'success rate 0.8004 ≥ 0.8'],
      [50, 40, 'PASS', 'success rate 0.800 ≥ 0.8'],
    ])(
      'should explain %i trials at %i successes without contradicting its %s',
      (trials, successes, result, reason) => {
        const evaluation = evaluateRecommendation(promoted(scorecard(trials, successes)), {
          confidence: 0.99,
        });
        expect(gate(evaluation, 'heimdall.sandboxSuccessRate')).toMatchObject({ result, reason });
      },
    );
  });

  describe('Given a domain with enough good trials but not in prod use', () => {
    it('should not be eligible: prod use fails (an operator must promote it)', () => {
      const evaluation = evaluateRecommendation(
        { policy: { ...THRESHOLDS, prodUseEnabled: false }, scorecard: scorecard(60, 60) },
        { confidence: 0.99 },
      );
      expect(evaluation).toMatchObject({ outcome: 'NOT_ELIGIBLE', action: 'BLOCK' });
      expect(gate(evaluation, 'heimdall.prodUse')).toMatchObject({ result: 'FAIL', value: false });
    });
  });

  describe('Given a domain with one trial short of the minimum (49, all successes)', () => {
    const domain = { policy: { ...THRESHOLDS, prodUseEnabled: false }, scorecard: scorecard(49, 49) };

    it('should be INCONCLUSIVE above the confidence bar: a human decides', () => {
      const evaluation = evaluateRecommendation(domain, { confidence: 0.93 });
      expect(evaluation).toMatchObject({
        outcome: 'INCONCLUSIVE',
        eligible: false,
        action: 'REQUIRE_APPROVAL',
      });
      expect(evaluation.gates.map((g) => [g.name, g.result])).toEqual([
        ['heimdall.policy', 'PASS'],
        ['heimdall.confidence', 'PASS'],
        ['heimdall.sandboxTrials', 'PENDING'],
        ['heimdall.sandboxSuccessRate', 'PENDING'],
        ['heimdall.prodUse', 'PENDING'],
      ]);
      expect(gate(evaluation, 'heimdall.sandboxTrials')).toMatchObject({
        value: 49,
        threshold: 50,
        distanceToTrip: -1,
        outcome: 'REQUIRE_APPROVAL',
      });
    });

    it('should be NOT_ELIGIBLE below the confidence bar (no human is asked)', () => {
      expect(evaluateRecommendation(domain, { confidence: 0.9 }).outcome).toBe('NOT_ELIGIBLE');
    });

    it('should turn ELIGIBLE with the 50th successful trial once prod use is enabled', () => {
      const after = { policy: { ...THRESHOLDS, prodUseEnabled: true }, scorecard: scorecard(50, 50) };
      expect(evaluateRecommendation(after, { confidence: 0.93 }).outcome).toBe('ELIGIBLE');
    });
  });

  describe('Given a domain with no trials at all', () => {
    it('should be INCONCLUSIVE with a success rate of null', () => {
      const evaluation = evaluateRecommendation(
        { policy: { ...THRESHOLDS, prodUseEnabled: false }, scorecard: EMPTY_SCORECARD },
        { confidence: 0.99 },
      );
      expect(evaluation.outcome).toBe('INCONCLUSIVE');
      expect(gate(evaluation, 'heimdall.sandboxSuccessRate')).toMatchObject({
        value: null,
        distanceToTrip: null,
      });
    });
  });

  describe('Risk level (seed 004 A3 classifier of the gate)', () => {
    const eligible = promoted(scorecard(50, 50));
    const inconclusive = { policy: { ...THRESHOLDS, prodUseEnabled: false }, scorecard: scorecard(1, 1) };
    const eligibleFrom = (minConfidence: number) => ({
      ...eligible,
      policy: { ...THRESHOLDS, minConfidence, prodUseEnabled: true },
    });
    const inconclusiveFrom = (minConfidence: number) => ({
      ...inconclusive,
      policy: { ...THRESHOLDS, minConfidence, prodUseEnabled: false },
    });

    it.each([
      ['ELIGIBLE with HIGH confidence (auto_respond)', 'MEDIUM', eligible, { confidence: 0.95 }, 'ELIGIBLE'],
      [
        'INCONCLUSIVE with HIGH confidence (require_human)',
        'LOW',
        inconclusive,
        { confidence: 0.95 },
        'INCONCLUSIVE',
      ],
      ['NOT_ELIGIBLE (skip)', 'LOW', eligible, { confidence: 0.5 }, 'NOT_ELIGIBLE'],
      [
        'a destructive recommendation',
        'CRITICAL',
        eligible,
        { confidence: 0.95, destructive: true },
        'ELIGIBLE',
      ],
      [
        'a critical session',
        'HIGH',
        inconclusive,
        { confidence: 0.95, sessionTags: ['critical_session'] },
        'INCONCLUSIVE',
      ],
      [
        'a safe session',
        'MEDIUM',
        eligible,
        { confidence: 0.95, destructive: true, sessionTags: ['safe_session'] },
        'ELIGIBLE',
      ],
      [
        'ELIGIBLE with MEDIUM confidence (0.8, bar 0.7)',
        'HIGH',
        eligibleFrom(0.7),
        { confidence: 0.8 },
        'ELIGIBLE',
      ],
      [
        'ELIGIBLE just below the HIGH bucket (0.899)',
        'HIGH',
        eligibleFrom(0.7),
        { confidence: 0.899 },
        'ELIGIBLE',
      ],
      [
        'ELIGIBLE at exactly the HIGH bucket (0.9)',
        'MEDIUM',
        eligibleFrom(0.7),
        { confidence: 0.9 },
        'ELIGIBLE',
      ],
      [
        'INCONCLUSIVE with LOW confidence (0.55, bar 0.5)',
        'MEDIUM',
        inconclusiveFrom(0.5),
        { confidence: 0.55 },
        'INCONCLUSIVE',
      ],
      [
        'INCONCLUSIVE at exactly the MEDIUM bucket (0.6)',
        'LOW',
        inconclusiveFrom(0.5),
        { confidence: 0.6 },
        'INCONCLUSIVE',
      ],
    ] as const)('should classify %s as %s', (_name, level, domain, input, outcome) => {
      const evaluation = evaluateRecommendation(domain, input);
      expect(evaluation.outcome).toBe(outcome);
      expect(evaluation.riskLevel).toBe(level);
    });
  });
});

// ── fixtures ───────────────────────────────────────────────────────────────────────────────────

function promoted(card: Scorecard): GatedDomain {
  return { policy: { ...THRESHOLDS, prodUseEnabled: true }, scorecard: card };
}

function scorecard(trials: number, successes: number): Scorecard {
  let card = EMPTY_SCORECARD;
  for (let i = 0; i < trials; i += 1) {
    card = addTrial(card, {
      engineId: 'bot',
      trialId: `t-${i}`,
      success: i < successes,
      day: '2026-11-21',
      at: '2026-11-21T12:00:00.000Z',
    });
  }
  return card;
}

function gate(evaluation: ReturnType<typeof evaluateRecommendation>, name: string) {
  return evaluation.gates.find((g) => g.name === name);
}
