import type { Money } from '@bifrost/contracts';

import type { StrategyEvent } from './strategy.events';
import { evolveStrategy } from './strategy.evolve';
import type { StrategyPolicy } from './strategy.policy';
import type { RegisteredStrategy, StrategyPause, StrategyState } from './strategy.state';
import { millis } from './strategy.time';

export function strategyRegistered(
  engineId: string,
  strategyId: string,
  capital: Money | null,
  now: string,
): Extract<StrategyEvent, { type: 'StrategyRegistered' }> {
  return {
    type: 'StrategyRegistered',
    data: { engineId, strategyId, level: 'L0', capital, registeredAt: now },
  };
}

/**
 * The strategy as the gate sees it: an unknown one is what its implicit registration would make
 * it (L0, no evidence), together with that registration event to append.
 */
export function registeredView(
  state: StrategyState,
  engineId: string,
  strategyId: string,
  now: string,
): { readonly strategy: RegisteredStrategy; readonly registration: StrategyEvent[] } {
  if (state.status === 'registered') return { strategy: state, registration: [] };
  const registered = strategyRegistered(engineId, strategyId, null, now);
  return { strategy: evolveStrategy(state, registered) as RegisteredStrategy, registration: [registered] };
}

/** Minor units the drawdown rule measures against: the registered capital, else the policy's reference. */
export function capitalOf(strategy: RegisteredStrategy, policy: StrategyPolicy): number {
  return strategy.capital?.amount ?? policy.referenceCapital;
}

/** The rolling window of health and drift: the last `windowSize` outcomes' pnl, oldest first. */
export function outcomeWindow(strategy: RegisteredStrategy, policy: StrategyPolicy): number[] {
  return strategy.recent.slice(-policy.health.windowSize).map((o) => o.pnl);
}

/** The pause in force at `now`: one whose cooldown has passed has lifted itself, without an event. */
export function activeStrategyPause(strategy: RegisteredStrategy, now: string): StrategyPause | null {
  const pause = strategy.pause;
  if (pause === null) return null;
  if (pause.cooldownUntil !== null && millis(now, 'now') >= millis(pause.cooldownUntil)) return null;
  return pause;
}
