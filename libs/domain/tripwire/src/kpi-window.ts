import type { EvaluationResult, KpiWindow, TripwireEvidence, TripwirePolicyConfig } from '@bifrost/contracts';

/** What an evaluation needs of a policy. */
export type WindowSettings = Pick<
  TripwirePolicyConfig,
  'recentWindow' | 'baselineWindow' | 'maxDropPct' | 'minEvents' | 'confidence'
>;

export interface WindowEvaluation {
  readonly result: EvaluationResult;
  readonly evidence: TripwireEvidence;
}

/**
 * The last N + M outcomes of one engine as a string of `1` (success) and `0`, oldest first: plain
 * JSON for snapshots and ~1 byte per event.
 */
export function appendOutcome(outcomes: string, success: boolean, capacity: number): string {
  return trimOutcomes(outcomes + (success ? '1' : '0'), capacity);
}

export function trimOutcomes(outcomes: string, capacity: number): string {
  return outcomes.length > capacity ? outcomes.slice(outcomes.length - capacity) : outcomes;
}

/**
 * Recent window = the last N outcomes (fewer while there are fewer); baseline = the M before them.
 * `observed` (events since the last reset) numbers the window bounds.
 */
export function evaluateWindow(
  outcomes: string,
  observed: number,
  settings: WindowSettings,
): WindowEvaluation {
  const n = outcomes.length;
  const recentCount = Math.min(settings.recentWindow, n);
  const baselineCount = Math.min(settings.baselineWindow, n - recentCount);
  const recentFrom = observed - recentCount + 1;
  const recent = windowOf(outcomes.slice(n - recentCount), recentFrom, observed);
  const baseline = windowOf(
    outcomes.slice(n - recentCount - baselineCount, n - recentCount),
    recentFrom - baselineCount,
    recentFrom - 1,
  );
  // From the counts, not the rounded rates: a drop of exactly maxDropPct must not trip, whatever
  // the rates' decimals (5/7 → 1/2 is 30 %, not the 30.000028 % of the rounded rates).
  const dropped = baseline.successes * recent.count - recent.successes * baseline.count;
  const dropBase = baseline.successes * recent.count;
  const dropPct = dropBase === 0 ? null : round((dropped / dropBase) * 100);
  const { zScore, pValue } = significance(baseline, recent);
  const evidence: TripwireEvidence = {
    baseline,
    recent,
    dropPct,
    maxDropPct: settings.maxDropPct,
    zScore: zScore === null ? null : round(zScore),
    pValue: pValue === null ? null : round(pValue, 9),
    confidence: settings.confidence,
    minEvents: settings.minEvents,
  };
  return {
    result: resultOf(evidence, dropBase > 0 && exceedsPct(dropped, dropBase, settings.maxDropPct)),
    evidence,
  };
}

/**
 * Whether part/whole is more than pct %, exactly: pct as the decimal it was written as (32.8, not
 * the binary 32.799999…, whose product with whole can round either way).
 */
function exceedsPct(part: number, whole: number, pct: number): boolean {
  const [mantissa = '0', exponent = '0'] = String(pct).split('e');
  const [units = '0', fraction = ''] = mantissa.split('.');
  const scale = fraction.length - Number(exponent);
  const digits = BigInt(units + fraction);
  return scale >= 0
    ? 100n * BigInt(part) * 10n ** BigInt(scale) > digits * BigInt(whole)
    : 100n * BigInt(part) > digits * 10n ** BigInt(-scale) * BigInt(whole);
}

function resultOf(e: TripwireEvidence, droppedMore: boolean): EvaluationResult {
  if (e.recent.count < e.minEvents || e.baseline.count < e.minEvents) return 'INSUFFICIENT_DATA';
  if (!droppedMore) return 'NO_DROP';
  // p < α, α = 1 − confidence; compared as p + confidence < 1 so 0.95 does not become 0.04999….
  if (e.pValue === null || e.pValue + e.confidence >= 1) return 'DROP_NOT_SIGNIFICANT';
  return 'TRIPPED';
}

function windowOf(outcomes: string, from: number, to: number): KpiWindow {
  let successes = 0;
  for (let i = 0; i < outcomes.length; i += 1) if (outcomes.charCodeAt(i) === 49) successes += 1;
  const count = outcomes.length;
  return count === 0
    ? { from: 0, to: 0, count, successes, rate: 0 }
    : { from, to, count, successes, rate: round(successes / count) };
}

/**
 * The one-sided test of "baseline rate > recent rate": the pooled two-proportion z-test when every
 * expected count of the 2×2 table (window × success/failure) is at least 5, where its normal
 * approximation holds; otherwise Fisher's exact test, whose p-value is then given without a z. The
 * z-test alone calls 2/2 against 0/2 significant (p ≈ 0.023); the exact p is 1/6.
 */
function significance(
  baseline: KpiWindow,
  recent: KpiWindow,
): { zScore: number | null; pValue: number | null } {
  if (baseline.count === 0 || recent.count === 0) return { zScore: null, pValue: null };
  const total = baseline.count + recent.count;
  const successes = baseline.successes + recent.successes;
  // The smallest expected count is the smaller row total times the smaller column total over the
  // grand total; compared multiplied out, in integers.
  const smallerRow = Math.min(baseline.count, recent.count);
  const smallerColumn = Math.min(successes, total - successes);
  if (smallerRow * smallerColumn < 5 * total) {
    return {
      zScore: null,
      pValue: hypergeometricUpperTail(total, successes, baseline.count, baseline.successes),
    };
  }
  const zScore = twoProportionZ(baseline, recent);
  return { zScore, pValue: upperTail(zScore) };
}

/**
 * P(X ≥ k) for X hypergeometric: n draws without replacement from `population` items of which
 * `marked` are marked. Fisher's one-sided exact p-value, X being the baseline's successes with the
 * table's margins fixed. The terms are summed as ratios of the mode's, which is the largest (the
 * distribution is unimodal): no factorials, no overflow, and terms far in a tail underflow to 0
 * harmlessly. Only small tables come here (an expected count below 5), so the support, at most the
 * smaller margin + 1, stays short: under 750 terms at the largest windows a policy allows.
 */
function hypergeometricUpperTail(population: number, marked: number, n: number, k: number): number {
  const lo = Math.max(0, n + marked - population);
  const hi = Math.min(n, marked);
  if (k <= lo) return 1;
  if (k > hi) return 0;
  const unmarked = population - marked;
  const mode = Math.min(hi, Math.max(lo, Math.floor(((n + 1) * (marked + 1)) / (population + 2))));
  let all = 1;
  let tail = mode >= k ? 1 : 0;
  let term = 1;
  for (let x = mode; x > lo; x -= 1) {
    // P(x − 1) / P(x)
    term *= (x * (unmarked - n + x)) / ((marked - x + 1) * (n - x + 1));
    all += term;
    if (x - 1 >= k) tail += term;
  }
  term = 1;
  for (let x = mode; x < hi; x += 1) {
    // P(x + 1) / P(x)
    term *= ((marked - x) * (n - x)) / ((x + 1) * (unmarked - n + x + 1));
    all += term;
    if (x + 1 >= k) tail += term;
  }
  return Math.min(1, tail / all);
}

/** Pooled two-proportion z of "baseline rate > recent rate" (both columns non-empty: its variance is above 0). */
function twoProportionZ(baseline: KpiWindow, recent: KpiWindow): number {
  const pooled = (baseline.successes + recent.successes) / (baseline.count + recent.count);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / baseline.count + 1 / recent.count));
  return (baseline.successes / baseline.count - recent.successes / recent.count) / se;
}

/** P(Z ≥ z) for a standard normal Z (Numerical Recipes erfc, relative error < 1.2e-7). */
export function upperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

// Rates and percentages are compared at the boundary (30 % is not above 30 %): rounding keeps
// (1 − 0.7) × 100 from becoming 30.000000000000004.
function round(x: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
