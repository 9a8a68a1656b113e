import { profitFactor } from './strategy.maturity';
import type { StrategyPolicy } from './strategy.policy';
import type { Baseline } from './strategy.state';

export type DriftMetric = 'winRate' | 'profitFactor' | 'avgPnl';

export interface LiveMetrics {
  readonly sample: number;
  readonly winRate: number;
  /** Infinite when the window has wins and no losses. */
  readonly profitFactor: number;
  readonly avgPnl: number;
}

export type DriftAssessment =
  | { readonly status: 'no-baseline' }
  | { readonly status: 'insufficient-sample'; readonly sample: number; readonly minSample: number }
  | {
      readonly status: 'measured';
      /** The largest adverse relative deviation, ≥ 0. */
      readonly drift: number;
      readonly metric: DriftMetric;
      readonly live: LiveMetrics;
      readonly baseline: Baseline;
    };

export function liveMetrics(pnls: readonly number[]): LiveMetrics {
  let wins = 0;
  let grossWin = 0;
  let grossLoss = 0;
  for (const pnl of pnls) {
    if (pnl > 0) {
      wins += 1;
      grossWin += pnl;
    } else {
      grossLoss -= pnl;
    }
  }
  const sample = pnls.length;
  return {
    sample,
    winRate: sample === 0 ? 0 : wins / sample,
    profitFactor: profitFactor({ grossWin, grossLoss }),
    avgPnl: sample === 0 ? 0 : (grossWin - grossLoss) / sample,
  };
}

/** How far below the baseline a higher-is-better metric is, relative to the baseline (0 when at or above). */
/**
 * Rounded to 12 decimals, far below any threshold's precision, so that a shortfall of exactly 30 %
 * is 0.3 and not 0.30000000000000004 (which would trip a "> 30 %" rule).
 */
function shortfall(live: number, baseline: number): number {
  return baseline > 0 ? Math.max(0, Math.round(((baseline - live) / baseline) * 1e12) / 1e12) : 0;
}

/**
 * Drift = the largest relative shortfall of live win rate, profit factor and mean pnl (the last only
 * when the baseline's is positive) over the window against the backtest baseline. Doing better than
 * the backtest is not drift: the rule protects against degradation. It counts from `minSample`.
 */
export function assessDrift(
  pnls: readonly number[],
  baseline: Baseline | null,
  policy: StrategyPolicy,
): DriftAssessment {
  if (baseline === null) return { status: 'no-baseline' };
  const { minSample } = policy.drift;
  if (pnls.length < minSample) return { status: 'insufficient-sample', sample: pnls.length, minSample };
  const live = liveMetrics(pnls);
  const deviations: ReadonlyArray<readonly [DriftMetric, number]> = [
    ['winRate', shortfall(live.winRate, baseline.winRate)],
    ['profitFactor', shortfall(live.profitFactor, baseline.profitFactor)],
    ['avgPnl', baseline.avgPnl === null ? 0 : shortfall(live.avgPnl, baseline.avgPnl.amount)],
  ];
  const [metric, drift] = deviations.reduce((worst, d) => (d[1] > worst[1] ? d : worst));
  return { status: 'measured', drift, metric, live, baseline };
}
