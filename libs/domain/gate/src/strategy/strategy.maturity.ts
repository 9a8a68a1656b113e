import { MATURITY_LEVELS, type MaturityLevel } from '@bifrost/contracts';

import type { StrategyPolicy } from './strategy.policy';
import type { LevelStats } from './strategy.state';

export interface LevelTraits {
  readonly label: 'shadow' | 'paper' | 'gated' | 'constrained' | 'autonomous';
  /** Share of the requested size an action may have; 0 = does not execute. */
  readonly sizeCap: number;
  readonly approvalPerAction: boolean;
}

/** The maturity ladder of seed 001 (DESIGN §3). */
export const MATURITY_LADDER: Readonly<Record<MaturityLevel, LevelTraits>> = {
  L0: { label: 'shadow', sizeCap: 0, approvalPerAction: false },
  L1: { label: 'paper', sizeCap: 0, approvalPerAction: false },
  L2: { label: 'gated', sizeCap: 0.1, approvalPerAction: true },
  L3: { label: 'constrained', sizeCap: 0.25, approvalPerAction: false },
  L4: { label: 'autonomous', sizeCap: 1, approvalPerAction: false },
};

export function maturityIndex(level: MaturityLevel): number {
  return MATURITY_LEVELS.indexOf(level);
}

function levelAt(index: number): MaturityLevel {
  return MATURITY_LEVELS[Math.max(0, Math.min(MATURITY_LEVELS.length - 1, index))] as MaturityLevel;
}

export function nextMaturityLevel(level: MaturityLevel): MaturityLevel | null {
  return level === 'L4' ? null : levelAt(maturityIndex(level) + 1);
}

export function winRate(stats: Pick<LevelStats, 'outcomes' | 'wins'>): number {
  return stats.outcomes === 0 ? 0 : stats.wins / stats.outcomes;
}

/**
 * Gross wins / gross losses. Without losses it is infinite when there are wins (nothing was lost)
 * and 0 when there are none (no evidence of profit).
 */
export function profitFactor(stats: Pick<LevelStats, 'grossWin' | 'grossLoss'>): number {
  if (stats.grossLoss === 0) return stats.grossWin > 0 ? Number.POSITIVE_INFINITY : 0;
  return stats.grossWin / stats.grossLoss;
}

/** JSON has no infinity: an infinite ratio travels as null. */
export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/**
 * Peak-relative drawdown since the strategy entered its level: how far equity (capital + pnl) is
 * below its highest point, as a share of that highest point.
 */
export function drawdown(stats: Pick<LevelStats, 'pnl' | 'peakPnl'>, capital: number): number {
  return (stats.peakPnl - stats.pnl) / (capital + stats.peakPnl);
}

export interface Promotion {
  readonly to: MaturityLevel;
  readonly evidence: { readonly outcomes: number; readonly winRate: number; readonly profitFactor: number };
}

/** One level up once the level's evidence clears every bar (≥ outcomes, > win rate, > profit factor). */
export function promotionFor(
  level: MaturityLevel,
  stats: LevelStats,
  policy: StrategyPolicy,
): Promotion | null {
  const to = nextMaturityLevel(level);
  const rate = winRate(stats);
  const factor = profitFactor(stats);
  const { minOutcomes, minWinRate, minProfitFactor } = policy.promotion;
  if (to === null || stats.outcomes < minOutcomes || rate <= minWinRate || factor <= minProfitFactor) {
    return null;
  }
  return { to, evidence: { outcomes: stats.outcomes, winRate: rate, profitFactor: factor } };
}

export interface Demotion {
  readonly to: MaturityLevel;
  readonly reason: 'drawdown' | 'loss-streak';
  readonly drawdown: number;
  readonly lossStreak: number;
  readonly detail: string;
}

/**
 * Demotion is immediate and may skip levels: a drawdown beyond `maxDrawdown` or a loss streak
 * beyond `maxLossStreak` costs one level; a drawdown beyond `paperDrawdown` drops to L1 at most and
 * beyond `shadowDrawdown` to L0. A streak grows one outcome at a time and is caught at its first
 * step over the limit, so only a single large loss can skip levels.
 */
export function demotionFor(
  level: MaturityLevel,
  stats: LevelStats,
  capital: number,
  policy: StrategyPolicy,
): Demotion | null {
  if (level === 'L0') return null;
  const { maxDrawdown, paperDrawdown, shadowDrawdown, maxLossStreak } = policy.demotion;
  const dd = drawdown(stats, capital);
  const oneDown = maturityIndex(level) - 1;
  const byDrawdown =
    dd > shadowDrawdown ? 0 : dd > paperDrawdown ? Math.min(oneDown, 1) : dd > maxDrawdown ? oneDown : null;
  const byStreak = stats.lossStreak > maxLossStreak ? oneDown : null;
  if (byDrawdown === null && byStreak === null) return null;
  const reason =
    byDrawdown !== null && (byStreak === null || byDrawdown <= byStreak) ? 'drawdown' : 'loss-streak';
  const parts = [
    ...(byDrawdown === null ? [] : [`drawdown ${percent(dd)} > ${percent(maxDrawdown)}`]),
    ...(byStreak === null ? [] : [`loss streak ${stats.lossStreak} > ${maxLossStreak}`]),
  ];
  return {
    to: levelAt(Math.min(byDrawdown ?? oneDown, byStreak ?? oneDown)),
    reason,
    drawdown: dd,
    lossStreak: stats.lossStreak,
    detail: parts.join(', '),
  };
}

/** A ratio as a percentage with up to 3 decimals: 0.10001 → `10.001 %`. */
export function percent(ratio: number): string {
  return `${Number((ratio * 100).toFixed(3))} %`;
}
