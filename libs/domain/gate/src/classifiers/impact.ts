import type { BlastRadius, Check, ImpactFactors, Money } from '@bifrost/contracts';

export const IMPACT_TIERS = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type ImpactTier = (typeof IMPACT_TIERS)[number];

/** Lower bounds of the MEDIUM, HIGH and CRITICAL bands of one dimension. */
export interface TierThresholds {
  readonly medium: number;
  readonly high: number;
  readonly critical: number;
}

export interface ImpactConfig {
  /** Per ISO 4217 code, in minor units. A currency not listed scores the maximum (fail safe). */
  readonly notional: Readonly<Record<string, TierThresholds>>;
  /** Share of the engine's exposure, 0..1. */
  readonly concentration: TierThresholds;
  /** Added to the score of an irreversible (or destructive) action: one tier up. */
  readonly irreversibleBoost: number;
  /** Tier floor when the engine declared no impact factors. */
  readonly undeclaredFloor: ImpactTier;
  /** Lowest maturity level (0..4) allowed to take an action of each tier; below it: BLOCK. */
  readonly minMaturity: Readonly<Record<ImpactTier, number>>;
  /** Tiers that need a human approval even at or above their minimum maturity. */
  readonly approvalAlways: Readonly<Record<ImpactTier, boolean>>;
}

export const DEFAULT_IMPACT_CONFIG: ImpactConfig = {
  notional: { USD: { medium: 100_000, high: 1_000_000, critical: 10_000_000 } },
  concentration: { medium: 0.1, high: 0.25, critical: 0.5 },
  irreversibleBoost: 0.25,
  undeclaredFloor: 'MEDIUM',
  minMaturity: { LOW: 2, MEDIUM: 2, HIGH: 3, CRITICAL: 4 },
  approvalAlways: { LOW: false, MEDIUM: false, HIGH: false, CRITICAL: true },
};

/** Each dimension scored 0..1; the score bands are LOW < 0.25 ≤ MEDIUM < 0.5 ≤ HIGH < 0.75 ≤ CRITICAL. */
export interface ImpactDimensions {
  /** 1 when irreversible or destructive; null when undeclared. */
  readonly irreversibility: number | null;
  readonly blastRadius: number | null;
  readonly concentration: number | null;
  /** 0 without a notional. */
  readonly notional: number;
}

export interface ImpactClassification {
  readonly tier: ImpactTier;
  /** 0..1 */
  readonly score: number;
  readonly dimensions: ImpactDimensions;
}

const BLAST_RADIUS_SCORE: Readonly<Record<BlastRadius, number>> = {
  single: 0,
  strategy: 0.25,
  engine: 0.5,
  portfolio: 0.75,
  global: 1,
};

const TIER_FLOOR_SCORE: Readonly<Record<ImpactTier, number>> = {
  LOW: 0,
  MEDIUM: 0.25,
  HIGH: 0.5,
  CRITICAL: 0.75,
};

/**
 * Piecewise linear: 0 at 0, 0.25 / 0.5 / 0.75 exactly at the medium / high / critical thresholds,
 * 1 at `max`, so a dimension lands in the tier band its thresholds name.
 */
function bandScore(value: number, t: TierThresholds, max: number): number {
  if (value <= 0) return 0;
  if (value < t.medium) return (0.25 * value) / t.medium;
  if (value < t.high) return 0.25 + (0.25 * (value - t.medium)) / (t.high - t.medium);
  if (value < t.critical) return 0.5 + (0.25 * (value - t.high)) / (t.critical - t.high);
  if (value >= max) return 1;
  return 0.75 + (0.25 * (value - t.critical)) / (max - t.critical);
}

function notionalScore(notional: Money | undefined, config: ImpactConfig): number {
  if (!notional) return 0;
  const thresholds = Object.hasOwn(config.notional, notional.currency)
    ? config.notional[notional.currency]
    : undefined;
  if (!thresholds) return 1;
  return bandScore(Math.abs(notional.amount), thresholds, 2 * thresholds.critical);
}

export function tierOfScore(score: number): ImpactTier {
  if (score >= 0.75) return 'CRITICAL';
  if (score >= 0.5) return 'HIGH';
  if (score >= 0.25) return 'MEDIUM';
  return 'LOW';
}

/**
 * The impact tier of an action: the worst of blast radius, concentration and notional, one tier
 * up when the action cannot be undone. Undeclared factors floor the tier at MEDIUM (by default);
 * a notional in a currency without thresholds scores the maximum.
 */
export function classifyImpact(
  factors: ImpactFactors | undefined,
  notional: Money | undefined,
  config: ImpactConfig = DEFAULT_IMPACT_CONFIG,
): ImpactClassification {
  const notionalDimension = notionalScore(notional, config);
  if (!factors) {
    const score = Math.max(notionalDimension, TIER_FLOOR_SCORE[config.undeclaredFloor]);
    return {
      tier: tierOfScore(score),
      score,
      dimensions: {
        irreversibility: null,
        blastRadius: null,
        concentration: null,
        notional: notionalDimension,
      },
    };
  }
  const irreversibility = factors.irreversible || factors.destructive === true ? 1 : 0;
  const blastRadius = BLAST_RADIUS_SCORE[factors.blastRadius];
  const concentration = bandScore(factors.concentration, config.concentration, 1);
  const score = Math.min(
    1,
    Math.max(blastRadius, concentration, notionalDimension) + irreversibility * config.irreversibleBoost,
  );
  return {
    tier: tierOfScore(score),
    score,
    dimensions: { irreversibility, blastRadius, concentration, notional: notionalDimension },
  };
}

/**
 * Whether a strategy at `maturityLevel` (0..4) may take an action of `tier`. `value` is the tier,
 * `threshold` the minimum level, `distanceToTrip` how many demotions the strategy can take before
 * the check trips (≤ 0: tripped).
 */
export function impactCheck(
  tier: ImpactTier,
  maturityLevel: number,
  config: ImpactConfig = DEFAULT_IMPACT_CONFIG,
): Check {
  const min = config.minMaturity[tier];
  // `...base` goes last: see docs/performance.md, "Object spread".
  const base = { name: 'impact', value: tier, threshold: `L${min}` };
  if (maturityLevel < min)
    return {
      outcome: 'BLOCK',
      distanceToTrip: maturityLevel - min + 1,
      reason: `${tier} impact needs maturity L${min}, strategy is at L${maturityLevel}`,
      ...base,
    };
  if (config.approvalAlways[tier])
    return {
      outcome: 'REQUIRE_APPROVAL',
      distanceToTrip: 0,
      reason: `${tier} impact always needs a human approval`,
      ...base,
    };
  return {
    outcome: 'ALLOW',
    distanceToTrip: maturityLevel - min + 1,
    reason: `${tier} impact allowed from L${min}`,
    ...base,
  };
}
