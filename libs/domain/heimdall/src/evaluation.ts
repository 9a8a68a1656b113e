import type {
  EvaluationOutcome,
  GateResult,
  HeimdallGateCheck,
  HeimdallThresholds,
  RiskLevel,
  ScorecardTotals,
} from '@bifrost/contracts';
import { classifyRisk, confidenceBucket, type RiskDisposition } from '@bifrost/domain-gate';
import { totalsOf, type Scorecard } from './scorecard';

/** What the gates look at in a domain: its policy (null: none) and its scorecard. */
export interface GatedDomain {
  readonly policy: (HeimdallThresholds & { readonly prodUseEnabled: boolean }) | null;
  readonly scorecard: Scorecard;
}

/** The recommendation as the gates and the risk classifier see it. */
export interface RecommendationInput {
  readonly confidence: number;
  readonly destructive?: boolean;
  readonly sessionTags?: readonly string[];
}

export interface Evaluation {
  readonly outcome: EvaluationOutcome;
  readonly eligible: boolean;
  readonly action: 'ALLOW' | 'REQUIRE_APPROVAL' | 'BLOCK';
  readonly riskLevel: RiskLevel;
  readonly gates: HeimdallGateCheck[];
  readonly scorecard: ScorecardTotals;
}

const OUTCOME_OF_RESULT = { PASS: 'ALLOW', PENDING: 'REQUIRE_APPROVAL', FAIL: 'BLOCK' } as const;
const ACTION_OF_OUTCOME = {
  ELIGIBLE: 'ALLOW',
  INCONCLUSIVE: 'REQUIRE_APPROVAL',
  NOT_ELIGIBLE: 'BLOCK',
} as const;
/**
 * Seed 004 A3's `action` for each outcome: an eligible recommendation is acted on without a human
 * (auto_respond), an inconclusive one waits for a human, a refused one is skipped.
 */
const DISPOSITION_OF_OUTCOME: Record<EvaluationOutcome, RiskDisposition> = {
  ELIGIBLE: 'auto_respond',
  INCONCLUSIVE: 'require_human',
  NOT_ELIGIBLE: 'skip',
};

/**
 * Differences of rates are rounded so that 0.95 − 0.92 reads 0.03, not 0.030000000000000027; a value
 * short of its bar by less than the rounding stays negative (short), never 0 (exactly at the bar).
 */
function distance(value: number, threshold: number): number {
  const difference = value - threshold;
  const rounded = Math.round(difference * 1e9) / 1e9;
  return difference < 0 && rounded >= 0 ? difference : rounded;
}

function gate(
  name: string,
  result: GateResult,
  value: HeimdallGateCheck['value'],
  threshold: HeimdallGateCheck['threshold'],
  distanceToTrip: number | null,
  reason: string,
): HeimdallGateCheck {
  return { name, outcome: OUTCOME_OF_RESULT[result], result, value, threshold, distanceToTrip, reason };
}

/**
 * The sandbox gates (trials, success rate) of a domain's scorecard against its thresholds. While
 * the domain has fewer trials than the minimum, both are PENDING: the evidence is not in yet.
 */
export function sandboxGates(thresholds: HeimdallThresholds, scorecard: Scorecard): HeimdallGateCheck[] {
  const { minSandboxTrials, minSandboxSuccessRate } = thresholds;
  const totals = totalsOf(scorecard);
  const enoughTrials = totals.trials >= minSandboxTrials;
  const rate = totals.successRate;
  const rateResult: GateResult = !enoughTrials
    ? 'PENDING'
    : rate !== null && rate >= minSandboxSuccessRate
      ? 'PASS'
      : 'FAIL';
  return [
    gate(
      'heimdall.sandboxTrials',
      enoughTrials ? 'PASS' : 'PENDING',
      totals.trials,
      minSandboxTrials,
      totals.trials - minSandboxTrials,
      enoughTrials
        ? `${totals.trials} sandbox trials ≥ ${minSandboxTrials}`
        : `${totals.trials} sandbox trials < ${minSandboxTrials}: not enough evidence yet`,
    ),
    gate(
      'heimdall.sandboxSuccessRate',
      rateResult,
      rate,
      minSandboxSuccessRate,
      rate === null ? null : distance(rate, minSandboxSuccessRate),
      rateResult === 'PENDING'
        ? `success rate ${rate === null ? 'n/a' : rateText(rate, minSandboxSuccessRate)} not conclusive before ${minSandboxTrials} trials`
        : rateResult === 'PASS'
          ? `success rate ${rateText(rate as number, minSandboxSuccessRate)} ≥ ${minSandboxSuccessRate}`
          : `success rate ${rateText(rate ?? 0, minSandboxSuccessRate)} < ${minSandboxSuccessRate}`,
    ),
  ];
}

/** A rate to 3 decimals, or in full where the rounding would say otherwise of it against `bar` (0.7996 is not 0.800). */
function rateText(rate: number, bar: number): string {
  const short = rate.toFixed(3);
  return Math.sign(Number(short) - bar) === Math.sign(rate - bar) ? short : String(rate);
}

/**
 * Every gate of seed 000 lever 3, stacked with AND logic: the domain has a policy, the
 * recommendation's confidence is at least the domain's bar, the domain has at least the minimum
 * sandbox trials with at least the minimum success rate, and the domain is in prod use.
 *
 * ELIGIBLE: every gate passes. INCONCLUSIVE: no gate fails, but sandbox evidence is still missing
 * (fewer trials than the minimum), so a human decides. NOT_ELIGIBLE: any gate fails; a domain
 * without a policy is never eligible.
 */
export function evaluateRecommendation(domain: GatedDomain, input: RecommendationInput): Evaluation {
  const { policy, scorecard } = domain;
  const gates = policy
    ? policyGates(policy, scorecard, input.confidence)
    : noPolicyGates(totalsOf(scorecard), input.confidence);
  const results = gates.map((g) => g.result);
  const outcome: EvaluationOutcome = results.every((r) => r === 'PASS')
    ? 'ELIGIBLE'
    : results.includes('FAIL')
      ? 'NOT_ELIGIBLE'
      : 'INCONCLUSIVE';
  return {
    outcome,
    eligible: outcome === 'ELIGIBLE',
    action: ACTION_OF_OUTCOME[outcome],
    riskLevel: classifyRisk({
      disposition: DISPOSITION_OF_OUTCOME[outcome],
      confidence: confidenceBucket(input.confidence),
      destructive: input.destructive === true,
      sessionTags: input.sessionTags ?? [],
    }),
    gates,
    scorecard: totalsOf(scorecard),
  };
}

function policyGates(
  policy: NonNullable<GatedDomain['policy']>,
  scorecard: Scorecard,
  confidence: number,
): HeimdallGateCheck[] {
  const confident = confidence >= policy.minConfidence;
  const sandbox = sandboxGates(policy, scorecard);
  const evidencePending = sandbox.some((g) => g.result === 'PENDING');
  // A domain cannot have been promoted before its evidence was in: while it is pending, prod use
  // off is part of "not yet", not a refusal.
  const prodUse: GateResult = policy.prodUseEnabled ? 'PASS' : evidencePending ? 'PENDING' : 'FAIL';
  return [
    gate('heimdall.policy', 'PASS', true, true, null, 'the domain has a policy'),
    gate(
      'heimdall.confidence',
      confident ? 'PASS' : 'FAIL',
      confidence,
      policy.minConfidence,
      distance(confidence, policy.minConfidence),
      confident
        ? `confidence ${confidence} ≥ ${policy.minConfidence}`
        : `confidence ${confidence} < ${policy.minConfidence}`,
    ),
    ...sandbox,
    gate(
      'heimdall.prodUse',
      prodUse,
      policy.prodUseEnabled,
      true,
      null,
      policy.prodUseEnabled
        ? 'the domain is in prod use'
        : prodUse === 'PENDING'
          ? 'the domain is not in prod use yet (sandbox evidence pending)'
          : 'the domain is not in prod use (an operator must promote it)',
    ),
  ];
}

function noPolicyGates(totals: ScorecardTotals, confidence: number): HeimdallGateCheck[] {
  const reason = 'no policy for this domain: not eligible';
  return [
    gate('heimdall.policy', 'FAIL', false, true, null, reason),
    gate('heimdall.confidence', 'FAIL', confidence, null, null, reason),
    gate('heimdall.sandboxTrials', 'FAIL', totals.trials, null, null, reason),
    gate('heimdall.sandboxSuccessRate', 'FAIL', totals.successRate, null, null, reason),
    gate('heimdall.prodUse', 'FAIL', false, true, null, reason),
  ];
}
