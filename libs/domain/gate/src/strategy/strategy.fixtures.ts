import type { Actor, GateAction, GateCheckRequest, MaturityLevel, Money } from '@bifrost/contracts';
import { DeciderSpecification } from '@bifrost/event-sourcing';

import type { StrategyEvent, StrategyEventOf } from './strategy.events';
import { DEFAULT_STRATEGY_POLICY, type StrategyPolicy } from './strategy.policy';
import { strategyDecider } from './strategy.decider';

// Shared builders of the strategy specs. Amounts are minor units of USD.

export const ENGINE_ID = 'engine-1';
export const STRATEGY_ID = 'momentum-1';
export const T0 = '2026-03-02T09:00:00.000Z';
/** Capital that makes drawdowns easy to read: 10 000 minor units = 10 %. */
export const CAPITAL = 100_000;

export const operator: Actor = { kind: 'operator', id: 'alice' };
export const otherOperator: Actor = { kind: 'operator', id: 'bob' };
export const engine: Actor = { kind: 'engine', id: ENGINE_ID };
export const system: Actor = { kind: 'system', id: 'gate' };

export const HASH_A = 'a'.repeat(64);
export const HASH_B = 'b'.repeat(64);

export function spec(policy: StrategyPolicy = DEFAULT_STRATEGY_POLICY) {
  return DeciderSpecification.for(strategyDecider, policy);
}

/** `T0` plus `seconds`. */
export function at(seconds: number): string {
  return new Date(Date.parse(T0) + seconds * 1000).toISOString();
}

export function usd(amount: number): Money {
  return { amount, currency: 'USD' };
}

export function registered(capital: number | null = CAPITAL): StrategyEventOf<'StrategyRegistered'> {
  return {
    type: 'StrategyRegistered',
    data: {
      engineId: ENGINE_ID,
      strategyId: STRATEGY_ID,
      level: 'L0',
      capital: capital === null ? null : usd(capital),
      registeredAt: T0,
    },
  };
}

export function overridden(from: MaturityLevel, to: MaturityLevel): StrategyEventOf<'MaturityOverridden'> {
  return {
    type: 'MaturityOverridden',
    data: { from, to, reason: 'test setup', overriddenBy: operator.id, overriddenAt: T0 },
  };
}

export function outcomeRecorded(
  outcomeId: string,
  pnl: number,
  level: MaturityLevel = 'L0',
  recordedAt = T0,
): StrategyEventOf<'OutcomeRecorded'> {
  return { type: 'OutcomeRecorded', data: { outcomeId, pnl: usd(pnl), level, recordedAt } };
}

/** Outcome events for `pnls`, ids `<prefix>-0`, `<prefix>-1`, … */
export function outcomes(
  pnls: readonly number[],
  level: MaturityLevel = 'L0',
  prefix = 'o',
): StrategyEvent[] {
  return pnls.map((pnl, i) => outcomeRecorded(`${prefix}-${i}`, pnl, level));
}

/** `wins` wins of `win` and `losses` losses of `-loss`, interleaved so losses never run long. */
export function mixed(wins: number, win: number, losses: number, loss: number): number[] {
  const pnls: number[] = [];
  let w = wins;
  let l = losses;
  while (w > 0 || l > 0) {
    if (w > 0) {
      pnls.push(win);
      w -= 1;
    }
    if (l > 0) {
      pnls.push(-loss);
      l -= 1;
    }
  }
  return pnls;
}

export function recordOutcome(outcomeId: string, pnl: number, now = T0) {
  return {
    type: 'RecordOutcome' as const,
    engineId: ENGINE_ID,
    strategyId: STRATEGY_ID,
    outcomeId,
    pnl: usd(pnl),
    now,
    actor: engine,
  };
}

export function baselineRegistered(
  winRate: number,
  profitFactor: number,
  avgPnl: number | null = null,
): StrategyEventOf<'BaselineRegistered'> {
  return {
    type: 'BaselineRegistered',
    data: {
      winRate,
      profitFactor,
      avgPnl: avgPnl === null ? null : usd(avgPnl),
      source: null,
      registeredBy: operator.id,
      registeredAt: T0,
    },
  };
}

export function tokenIssued(
  tokenId: string,
  overrides: Partial<StrategyEventOf<'TokenIssued'>['data']> = {},
): StrategyEventOf<'TokenIssued'> {
  return {
    type: 'TokenIssued',
    data: {
      tokenId,
      scope: { actionKinds: ['order.place'] },
      maxNotional: null,
      expiresAt: at(3600),
      singleUse: true,
      boundActionHash: null,
      approvalId: null,
      issuedBy: operator.id,
      issuedAt: T0,
      ...overrides,
    },
  };
}

export function paused(cooldownUntil: string | null = null): StrategyEventOf<'StrategyPaused'> {
  return {
    type: 'StrategyPaused',
    data: { reason: 'news event', drift: null, cooldownUntil, pausedBy: operator.id, pausedAt: T0 },
  };
}

export const orderAction: GateAction = {
  kind: 'order.place',
  intent: 'open',
  notional: usd(50_000),
  instrument: 'BTC-USD',
};

export function approvalRequested(
  approvalId: string,
  actionHash = HASH_A,
  expiresAt = at(900),
): StrategyEventOf<'ApprovalRequested'> {
  return {
    type: 'ApprovalRequested',
    data: { approvalId, actionHash, action: orderAction, requestedBy: engine.id, expiresAt, requestedAt: T0 },
  };
}

export function checkRequest(overrides: Partial<GateCheckRequest> = {}): GateCheckRequest {
  return { engineId: ENGINE_ID, strategyId: STRATEGY_ID, action: orderAction, ...overrides };
}
