import { ValidationError } from '@bifrost/event-sourcing';

import { OUTCOME_HISTORY_LIMIT } from './strategy.state';

/**
 * The tunable numbers of the strategy aggregate. They are applied when deciding and checking,
 * never when evolving, so state rebuilt from events is the same whatever the policy in force.
 */
export interface StrategyPolicy {
  readonly promotion: {
    /** Outcomes needed at the current level (≥). */
    readonly minOutcomes: number;
    /** Win rate at the level must be strictly above. */
    readonly minWinRate: number;
    /** Profit factor at the level must be strictly above. */
    readonly minProfitFactor: number;
  };
  readonly demotion: {
    /** Peak-relative drawdown strictly above this demotes one level. */
    readonly maxDrawdown: number;
    /** Drawdown strictly above this demotes to L1 at most (paper). */
    readonly paperDrawdown: number;
    /** Drawdown strictly above this demotes to L0 (shadow). */
    readonly shadowDrawdown: number;
    /** Consecutive losses strictly above this demote one level. */
    readonly maxLossStreak: number;
  };
  /** Capital (minor units of the strategy's currency) for drawdown when none is registered. */
  readonly referenceCapital: number;
  readonly health: {
    /** Outcomes in the rolling window (≤ OUTCOME_HISTORY_LIMIT). */
    readonly windowSize: number;
    /** Multiplier at score 0, in (0, 1]. */
    readonly floor: number;
    /** Scores at or above this trade at full size. */
    readonly fullSizeScore: number;
  };
  readonly drift: {
    /** Outcomes in the window before drift counts. */
    readonly minSample: number;
    readonly reduceAbove: number;
    readonly pauseAbove: number;
    /** Size multiplier while drift is between `reduceAbove` and `pauseAbove`. */
    readonly reduceMultiplier: number;
  };
  /** How long an approval request stays open. */
  readonly approvalTtlMs: number;
  /**
   * Longest an execution token may live, from its issue to its `expiresAt` (issued by an operator
   * or by granting an approval). Checked on new commands only: tokens already issued stay as they are.
   */
  readonly maxTokenTtlMs: number;
  /**
   * Registered strategies an engine may have before its checks stop registering new ones: a check
   * naming an unknown strategy of an engine with this many is answered BLOCK and registers nothing.
   * Operators' registrations (`RegisterStrategy`) are not limited, and count.
   */
  readonly maxStrategiesPerEngine: number;
}

/** Shipped defaults: seed 001 thresholds, DESIGN §3; the rest documented in docs/gate-strategy.md. */
export const DEFAULT_STRATEGY_POLICY: StrategyPolicy = {
  promotion: { minOutcomes: 50, minWinRate: 0.45, minProfitFactor: 1.1 },
  demotion: { maxDrawdown: 0.1, paperDrawdown: 0.2, shadowDrawdown: 0.3, maxLossStreak: 10 },
  referenceCapital: 10_000_000,
  health: { windowSize: 50, floor: 0.25, fullSizeScore: 0.8 },
  drift: { minSample: 20, reduceAbove: 0.3, pauseAbove: 0.5, reduceMultiplier: 0.5 },
  approvalTtlMs: 15 * 60 * 1000,
  // The longest an approval's token may live (`tokenTtlSeconds` ≤ 86 400): no token outlives a day.
  maxTokenTtlMs: 24 * 60 * 60 * 1000,
  // Two orders of magnitude above what an engine runs (a handful to tens of strategies), and low
  // enough that a runaway one costs at most ~1 000 events, ~1 MB of state and 3 000 gauge series.
  maxStrategiesPerEngine: 1_000,
};

export type StrategyPolicyOverrides = {
  readonly [K in keyof StrategyPolicy]?: StrategyPolicy[K] extends object
    ? Partial<StrategyPolicy[K]>
    : StrategyPolicy[K];
};

/**
 * The default policy with `overrides` applied; throws a ValidationError listing every bad value.
 * Overrides may come from configuration, so a key the policy does not have (a typo would otherwise
 * change nothing, silently) and a value of another type than its default's are errors too. The
 * error has no code of its own: the gate reads the policy at boot only, and refuses to start with
 * its message (GATE_STRATEGY_POLICY in a ConfigError), so no caller ever receives a code.
 */
export function strategyPolicy(overrides: StrategyPolicyOverrides = {}): StrategyPolicy {
  const misshapen = shapeProblems(overrides, DEFAULT_STRATEGY_POLICY, '');
  if (misshapen.length > 0) {
    throw new ValidationError(`invalid strategy policy: ${misshapen.join('; ')}`, {
      details: misshapen,
    });
  }
  const d = DEFAULT_STRATEGY_POLICY;
  const policy: StrategyPolicy = {
    promotion: { ...d.promotion, ...overrides.promotion },
    demotion: { ...d.demotion, ...overrides.demotion },
    referenceCapital: overrides.referenceCapital ?? d.referenceCapital,
    health: { ...d.health, ...overrides.health },
    drift: { ...d.drift, ...overrides.drift },
    approvalTtlMs: overrides.approvalTtlMs ?? d.approvalTtlMs,
    maxTokenTtlMs: overrides.maxTokenTtlMs ?? d.maxTokenTtlMs,
    maxStrategiesPerEngine: overrides.maxStrategiesPerEngine ?? d.maxStrategiesPerEngine,
  };
  const { promotion: p, demotion: m, health: h, drift: r } = policy;
  const problems = [
    [Number.isInteger(p.minOutcomes) && p.minOutcomes >= 1, 'promotion.minOutcomes must be an integer ≥ 1'],
    [p.minWinRate >= 0 && p.minWinRate < 1, 'promotion.minWinRate must be in [0, 1)'],
    [p.minProfitFactor >= 0, 'promotion.minProfitFactor must be ≥ 0'],
    [
      m.maxDrawdown > 0 && m.maxDrawdown <= m.paperDrawdown && m.paperDrawdown <= m.shadowDrawdown,
      'demotion drawdowns must satisfy 0 < maxDrawdown ≤ paperDrawdown ≤ shadowDrawdown',
    ],
    [
      Number.isInteger(m.maxLossStreak) && m.maxLossStreak >= 1,
      'demotion.maxLossStreak must be an integer ≥ 1',
    ],
    [
      Number.isSafeInteger(policy.referenceCapital) && policy.referenceCapital > 0,
      'referenceCapital must be a positive integer',
    ],
    [
      Number.isInteger(h.windowSize) && h.windowSize >= 1 && h.windowSize <= OUTCOME_HISTORY_LIMIT,
      `health.windowSize must be an integer in [1, ${OUTCOME_HISTORY_LIMIT}]`,
    ],
    [h.floor > 0 && h.floor <= 1, 'health.floor must be in (0, 1]'],
    [h.fullSizeScore > 0 && h.fullSizeScore <= 1, 'health.fullSizeScore must be in (0, 1]'],
    [
      Number.isInteger(r.minSample) && r.minSample >= 1 && r.minSample <= h.windowSize,
      'drift.minSample must be an integer in [1, health.windowSize]',
    ],
    [
      r.reduceAbove > 0 && r.reduceAbove <= r.pauseAbove,
      'drift thresholds must satisfy 0 < reduceAbove ≤ pauseAbove',
    ],
    [r.reduceMultiplier > 0 && r.reduceMultiplier <= 1, 'drift.reduceMultiplier must be in (0, 1]'],
    [
      Number.isInteger(policy.approvalTtlMs) && policy.approvalTtlMs > 0,
      'approvalTtlMs must be a positive integer',
    ],
    [
      Number.isSafeInteger(policy.maxTokenTtlMs) && policy.maxTokenTtlMs > 0,
      'maxTokenTtlMs must be a positive integer',
    ],
    [
      Number.isSafeInteger(policy.maxStrategiesPerEngine) && policy.maxStrategiesPerEngine > 0,
      'maxStrategiesPerEngine must be a positive integer',
    ],
  ] as const;
  const failed = problems.filter(([ok]) => !ok).map(([, message]) => message);
  if (failed.length > 0) {
    throw new ValidationError(`invalid strategy policy: ${failed.join('; ')}`, {
      details: failed,
    });
  }
  return policy;
}

/** Where `value` departs from the shape of `shape`: unknown keys and values of another type. */
function shapeProblems(value: unknown, shape: unknown, path: string): string[] {
  const name = path || 'the policy';
  if (typeof shape !== 'object' || shape === null) {
    return typeof value === typeof shape ? [] : [`${name} must be a ${typeof shape}`];
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${name} must be an object`];
  return Object.entries(value).flatMap(([key, inner]) => {
    const at = path ? `${path}.${key}` : key;
    return Object.hasOwn(shape, key)
      ? shapeProblems(inner, (shape as Record<string, unknown>)[key], at)
      : [`${at} is not a policy setting`];
  });
}
