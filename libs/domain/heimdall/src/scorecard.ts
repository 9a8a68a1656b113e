import type { ScorecardDay, ScorecardTotals } from '@bifrost/contracts';

/** Trials and successes of one UTC day. */
export interface DayTally {
  readonly trials: number;
  readonly successes: number;
}

/** A domain's sandbox record: cumulative, per day, and the trial ids that make redelivery harmless. */
export interface Scorecard {
  readonly trials: number;
  readonly successes: number;
  /** `YYYY-MM-DD` → tally, for the {@link SCORECARD_DAYS_KEPT} most recent days with trials. */
  readonly days: Readonly<Record<string, DayTally>>;
  readonly lastTrialAt: string | null;
  /**
   * The last {@link REMEMBERED_TRIAL_IDS} trials as {@link trialKey}s (engine and trial id), oldest
   * first: trial ids are the engines', so two engines may use the same one.
   */
  readonly recentTrialIds: readonly string[];
}

/** Days of per-day tallies kept in memory; the projector keeps every day. */
export const SCORECARD_DAYS_KEPT = 90;
/**
 * A repeated trial id among this many last ones of a domain is counted once. Redelivery repeats a
 * trial within seconds; the bound keeps the state (and its snapshot) small.
 */
export const REMEMBERED_TRIAL_IDS = 1024;

export const EMPTY_SCORECARD: Scorecard = {
  trials: 0,
  successes: 0,
  days: {},
  lastTrialAt: null,
  recentTrialIds: [],
};

/** The UTC day of an RFC 3339 UTC timestamp (`…Z`). */
export function utcDay(timestamp: string): string {
  return timestamp.slice(0, 10);
}

export function successRate(trials: number, successes: number): number | null {
  return trials === 0 ? null : successes / trials;
}

export function totalsOf(tally: DayTally): ScorecardTotals {
  return {
    trials: tally.trials,
    successes: tally.successes,
    successRate: successRate(tally.trials, tally.successes),
  };
}

/** A trial's identity: its engine's id and the engine's trial id (engine ids contain no `/`). */
export function trialKey(engineId: string, trialId: string): string {
  return `${engineId}/${trialId}`;
}

export function hasTrial(scorecard: Scorecard, engineId: string, trialId: string): boolean {
  return scorecard.recentTrialIds.includes(trialKey(engineId, trialId));
}

export function addTrial(
  scorecard: Scorecard,
  trial: { engineId: string; trialId: string; success: boolean; day: string; at: string },
): Scorecard {
  const hit = trial.success ? 1 : 0;
  const today = scorecard.days[trial.day] ?? { trials: 0, successes: 0 };
  const days: Record<string, DayTally> = {
    ...scorecard.days,
    [trial.day]: { trials: today.trials + 1, successes: today.successes + hit },
  };
  const keys = Object.keys(days).sort();
  for (const old of keys.slice(0, Math.max(0, keys.length - SCORECARD_DAYS_KEPT))) delete days[old];
  return {
    trials: scorecard.trials + 1,
    successes: scorecard.successes + hit,
    days,
    lastTrialAt:
      scorecard.lastTrialAt === null || trial.at > scorecard.lastTrialAt ? trial.at : scorecard.lastTrialAt,
    recentTrialIds: [...scorecard.recentTrialIds, trialKey(trial.engineId, trial.trialId)].slice(
      -REMEMBERED_TRIAL_IDS,
    ),
  };
}

/** The most recent `limit` days, newest first. */
export function recentDays(scorecard: Scorecard, limit: number): ScorecardDay[] {
  return Object.keys(scorecard.days)
    .sort()
    .reverse()
    .slice(0, limit)
    .map((day) => ({ day, ...totalsOf(scorecard.days[day] as DayTally) }));
}
