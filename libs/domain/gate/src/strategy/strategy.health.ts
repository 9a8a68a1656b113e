import type { StrategyPolicy } from './strategy.policy';

/**
 * Seed 001's debt/credit model over the window, oldest first: a loss adds its size to debt; a win
 * pays off debt first and adds the rest to credit. Score = credit / (credit + debt), 1 when both
 * are 0 (no evidence of harm). Outstanding losses weigh until wins have paid them back.
 */
export function healthScore(pnls: readonly number[]): number {
  let debt = 0;
  let credit = 0;
  for (const pnl of pnls) {
    if (pnl < 0) {
      debt += -pnl;
    } else {
      const repaid = Math.min(debt, pnl);
      debt -= repaid;
      credit += pnl - repaid;
    }
  }
  return debt + credit === 0 ? 1 : credit / (credit + debt);
}

/**
 * Full size at or above `fullSizeScore`; below it the multiplier falls linearly from 1 to `floor`
 * at score 0, so it never goes under the floor.
 */
export function healthMultiplier(score: number, policy: StrategyPolicy['health']): number {
  if (score >= policy.fullSizeScore) return 1;
  return policy.floor + (1 - policy.floor) * (score / policy.fullSizeScore);
}
