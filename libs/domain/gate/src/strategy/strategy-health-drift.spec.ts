import { ForbiddenError, ValidationError, fold } from '@bifrost/event-sourcing';

import { strategyChecks } from './strategy.checks';
import { strategyDecider } from './strategy.decider';
import { assessDrift } from './strategy.drift';
import type { StrategyEvent } from './strategy.events';
import {
  T0,
  at,
  baselineRegistered,
  checkRequest,
  mixed,
  operator,
  outcomeRecorded,
  outcomes,
  paused,
  recordOutcome,
  registered,
  spec,
  system,
  usd,
} from './strategy.fixtures';
import { healthMultiplier, healthScore } from './strategy.health';
import { DEFAULT_STRATEGY_POLICY, strategyPolicy } from './strategy.policy';

const health = DEFAULT_STRATEGY_POLICY.health;

describe('Health score (debt/credit)', () => {
  describe('When the window is empty', () => {
    it('should be 1: no evidence of harm', () => {
      expect(healthScore([])).toBe(1);
    });
  });

  describe('When every outcome is a win', () => {
    it('should be 1', () => {
      expect(healthScore([100, 50, 10])).toBe(1);
    });
  });

  describe('When every outcome is a loss', () => {
    it('should be 0', () => {
      expect(healthScore([-100, -50])).toBe(0);
    });
  });

  describe('When wins came after the losses', () => {
    it('should let the wins pay the debt off first', () => {
      expect(healthScore([-100, 100])).toBe(1);
      expect(healthScore([-100, 150])).toBe(1);
      expect(healthScore([-100, 50])).toBe(0);
    });
  });

  describe('When losses came after the wins', () => {
    it('should weigh the outstanding debt against the credit', () => {
      expect(healthScore([100, -100])).toBe(0.5);
      expect(healthScore([...Array.from({ length: 47 }, () => 100), -1000, -1000, -1000])).toBe(4700 / 7700);
    });
  });
});

describe('Health multiplier', () => {
  describe('When the score is at or above the full-size score (0.8)', () => {
    it.each([0.8, 0.95, 1])('should be 1 at %p', (score) => {
      expect(healthMultiplier(score, health)).toBe(1);
    });
  });

  describe('When the score is below 0.8', () => {
    it('should fall linearly toward the floor (0.25 at score 0)', () => {
      expect(healthMultiplier(0.4, health)).toBe(0.625);
      expect(healthMultiplier(0, health)).toBe(0.25);
    });

    it('should honour a configured floor', () => {
      expect(healthMultiplier(0, strategyPolicy({ health: { floor: 0.5 } }).health)).toBe(0.5);
    });
  });
});

describe('Health check', () => {
  const healthOf = (history: StrategyEvent[], policy = DEFAULT_STRATEGY_POLICY) =>
    strategyChecks(fold(strategyDecider, history), checkRequest(), 'a'.repeat(64), T0, policy).find(
      (c) => c.name === 'health',
    );

  describe('When recent losses are unpaid', () => {
    it('should reduce size with the multiplier', () => {
      expect(healthOf([registered(), ...outcomes([100, -100])])).toEqual({
        name: 'health',
        outcome: 'REDUCE_SIZE',
        value: 0.5,
        threshold: 0.8,
        distanceToTrip: -0.3,
        sizeMultiplier: 0.7188,
        reason: 'health 0.5000 over the last 2 outcomes: sized × 0.7188 (floor 0.25)',
      });
    });

    it('should size a score just below 0.8 below full size (0.79999: × 0.9999, not rounded up to 1)', () => {
      expect(healthOf([registered(), ...outcomes([79_999, -20_001])])).toMatchObject({
        outcome: 'REDUCE_SIZE',
        sizeMultiplier: 0.9999,
      });
    });

    it('should never size below a configured floor that has more than 4 decimals', () => {
      const policy = strategyPolicy({ health: { floor: 0.33333 } });
      expect(healthOf([registered(), ...outcomes([-100])], policy)).toMatchObject({
        outcome: 'REDUCE_SIZE',
        sizeMultiplier: 0.33333,
      });
    });

    it('should not size a reduce-only action', () => {
      const state = fold(strategyDecider, [registered(), ...outcomes([100, -100])]);
      const request = checkRequest({ action: { kind: 'order.place', intent: 'close' } });
      expect(
        strategyChecks(state, request, 'a'.repeat(64), T0).find((c) => c.name === 'health')?.outcome,
      ).toBe('ALLOW');
    });
  });

  describe('When the losses have left the rolling window', () => {
    it('should be healthy again', () => {
      const history = [
        registered(),
        ...outcomes([-1000, -1000], 'L0', 'old'),
        ...outcomes(Array(50).fill(10)),
      ];
      expect(healthOf(history)).toMatchObject({ outcome: 'ALLOW', value: 1, distanceToTrip: 0.2 });
    });

    it('should use a configured window size', () => {
      const history = [registered(), ...outcomes([-1000], 'L0', 'old'), ...outcomes(Array(10).fill(10))];
      expect(
        healthOf(history, strategyPolicy({ health: { windowSize: 10 }, drift: { minSample: 5 } })),
      ).toMatchObject({ outcome: 'ALLOW', value: 1 });
      expect(
        healthOf(history, strategyPolicy({ health: { windowSize: 11 }, drift: { minSample: 5 } })),
      ).toMatchObject({ outcome: 'REDUCE_SIZE', value: 0 });
    });
  });
});

describe('Drift against the backtest baseline', () => {
  // Baseline win rate 0.625 (5/8); profit factor 0.5 keeps that metric out of the way.
  const baseline = baselineRegistered(0.625, 0.5);
  const window = (wins: number, total: number) => mixed(wins, 100, total - wins, 50);
  const driftOf = (pnls: number[]) => assessDrift(pnls, baseline.data, DEFAULT_STRATEGY_POLICY);
  const checkOf = (pnls: number[], intent: 'open' | 'reduce' = 'open', base = baseline) =>
    strategyChecks(
      fold(strategyDecider, [registered(), base, ...outcomes(pnls)]),
      checkRequest({ action: { kind: 'order.place', intent } }),
      'a'.repeat(64),
      T0,
    ).find((c) => c.name === 'drift');

  describe('When no baseline is registered', () => {
    it('should allow and say so', () => {
      const state = fold(strategyDecider, [registered(), ...outcomes(window(5, 32))]);
      expect(
        strategyChecks(state, checkRequest(), 'a'.repeat(64), T0).find((c) => c.name === 'drift'),
      ).toMatchObject({
        outcome: 'ALLOW',
        value: null,
        reason: 'no backtest baseline registered',
      });
    });
  });

  describe('When the window holds fewer than 20 outcomes', () => {
    it('should not count drift yet', () => {
      expect(checkOf(window(0, 19))).toMatchObject({ outcome: 'ALLOW', value: null, distanceToTrip: null });
    });

    it('should count it from exactly 20', () => {
      expect(checkOf(window(0, 20))).toMatchObject({ outcome: 'PAUSE', value: 1 });
    });
  });

  describe('When live win rate is exactly 30 % below the baseline', () => {
    it('should allow', () => {
      expect(driftOf(window(14, 32))).toMatchObject({ status: 'measured', drift: 0.3, metric: 'winRate' });
      expect(checkOf(window(14, 32))).toMatchObject({
        outcome: 'ALLOW',
        value: 0.3,
        threshold: 0.3,
        distanceToTrip: 0,
      });
    });
  });

  describe('When the exact 30 % is not exact in binary floating point', () => {
    it('should still allow: 7 of 20 wins against a baseline win rate of 0.5', () => {
      // (0.5 − 0.35) / 0.5 is 0.30000000000000004 in floating point.
      const half = baselineRegistered(0.5, 0.5);
      expect(assessDrift(window(7, 20), half.data, DEFAULT_STRATEGY_POLICY)).toMatchObject({
        status: 'measured',
        drift: 0.3,
      });
    });
  });

  describe('When drift is above 30 %', () => {
    it('should reduce size', () => {
      expect(checkOf(window(13, 32))).toEqual({
        name: 'drift',
        outcome: 'REDUCE_SIZE',
        value: 0.35,
        threshold: 0.5,
        distanceToTrip: 0.15,
        sizeMultiplier: 0.5,
        reason: 'drift 35 % (worst: winRate) against the backtest baseline > 30 %: sized × 0.5',
      });
    });
  });

  describe('When drift is just above 30 % (14 of 32 wins against a baseline win rate of 0.6259)', () => {
    it('should reduce size', () => {
      // (0.6259 − 0.4375) / 0.6259 = 0.30101
      expect(checkOf(window(14, 32), 'open', baselineRegistered(0.6259, 0.5))).toEqual({
        name: 'drift',
        outcome: 'REDUCE_SIZE',
        value: 0.301,
        threshold: 0.5,
        distanceToTrip: 0.199,
        sizeMultiplier: 0.5,
        reason: 'drift 30.101 % (worst: winRate) against the backtest baseline > 30 %: sized × 0.5',
      });
    });
  });

  describe('When drift is exactly 50 %', () => {
    it('should reduce size, not pause', () => {
      expect(checkOf(window(10, 32))).toMatchObject({
        outcome: 'REDUCE_SIZE',
        value: 0.5,
        distanceToTrip: 0,
      });
    });
  });

  describe('When drift is above 50 %', () => {
    it('should pause', () => {
      expect(checkOf(window(9, 32))).toMatchObject({ outcome: 'PAUSE', value: 0.55, threshold: 0.5 });
    });

    it('should let a reduce-only action through', () => {
      expect(checkOf(window(9, 32), 'reduce')).toMatchObject({ outcome: 'ALLOW', value: 0.55 });
    });
  });

  describe('When drift is just above 50 % (10 of 32 wins against a baseline win rate of 0.6263)', () => {
    it('should pause', () => {
      // (0.6263 − 0.3125) / 0.6263 = 0.50104
      expect(checkOf(window(10, 32), 'open', baselineRegistered(0.6263, 0.5))).toMatchObject({
        outcome: 'PAUSE',
        value: 0.501,
        threshold: 0.5,
        distanceToTrip: -0.001,
        reason: 'drift 50.104 % (worst: winRate) against the backtest baseline > 50 %: paused',
      });
    });
  });

  describe('When live performance beats the baseline', () => {
    it('should not count as drift', () => {
      expect(driftOf(window(30, 32))).toMatchObject({ drift: 0 });
    });
  });

  describe('When the baseline has a positive mean pnl', () => {
    it('should compare the live mean too', () => {
      const withMean = baselineRegistered(0.5, 0.5, 100).data;
      // 20 wins of 100 and 12 losses of 50: mean 43.75, 56.25 % below 100.
      expect(assessDrift(window(20, 32), withMean, DEFAULT_STRATEGY_POLICY)).toMatchObject({
        drift: 0.5625,
        metric: 'avgPnl',
      });
    });
  });

  describe('When an outcome pushes drift over 50 %', () => {
    const history = [registered(), baseline, ...outcomes(window(9, 31))];

    it('should pause the strategy for drift', () => {
      spec()
        .given(history)
        .when(recordOutcome('o-last', -50))
        .then([
          outcomeRecorded('o-last', -50),
          {
            type: 'StrategyPaused',
            data: {
              reason: 'drift',
              drift: { value: 0.55, threshold: 0.5 },
              cooldownUntil: null,
              pausedBy: 'gate',
              pausedAt: T0,
            },
          },
        ]);
    });

    it('should not pause again while paused', () => {
      spec()
        .given([...history, paused()])
        .when(recordOutcome('o-last', -50))
        .then([outcomeRecorded('o-last', -50)]);
    });

    it('should pause until resumed while a pause that lifts itself by its cooldown is in force', () => {
      // Otherwise the cooldown would end the pause by itself, and an outcome bringing drift back
      // under 50 % in the meantime would let the strategy trade without an operator's resume.
      spec()
        .given([...history, paused(at(60))])
        .when(recordOutcome('o-last', -50))
        .then([
          outcomeRecorded('o-last', -50),
          {
            type: 'StrategyPaused',
            data: {
              reason: 'drift',
              drift: { value: 0.55, threshold: 0.5 },
              cooldownUntil: null,
              pausedBy: 'gate',
              pausedAt: T0,
            },
          },
        ]);
    });
  });

  describe('When an outcome leaves drift exactly at 50 %', () => {
    it('should not pause', () => {
      spec()
        .given([registered(), baseline, ...outcomes(window(10, 31))])
        .when(recordOutcome('o-last', -50))
        .then([outcomeRecorded('o-last', -50)]);
    });
  });
});

describe('Registering a baseline', () => {
  const register = (winRate: number, profitFactor: number, avgPnl?: number, mayNotLoosen = true) => ({
    type: 'RegisterBaseline' as const,
    winRate,
    profitFactor,
    ...(avgPnl === undefined ? {} : { avgPnl: usd(avgPnl) }),
    ...(mayNotLoosen ? { mayNotLoosen } : {}),
    now: T0,
    actor: operator,
  });
  const current = baselineRegistered(0.55, 1.4, 40);

  describe('When a caller who may not loosen registers the first baseline', () => {
    it('should register it: a first baseline only adds a check', () => {
      spec()
        .given([registered()])
        .when(register(0.1, 0.2))
        .then([baselineRegistered(0.1, 0.2)]);
    });
  });

  describe('When a caller who may not loosen raises it', () => {
    it('should register it', () => {
      spec()
        .given([registered(), current])
        .when(register(0.6, 1.5, 50))
        .then([baselineRegistered(0.6, 1.5, 50)]);
    });
  });

  describe.each([
    ['a lower win rate', register(0.54, 1.4, 40)],
    ['a lower profit factor', register(0.55, 1.3, 40)],
    ['a lower average PnL', register(0.55, 1.4, 39)],
    ['no average PnL where there was one', register(0.55, 1.4)],
  ])('When a caller who may not loosen registers %s', (_, command) => {
    it('should refuse it: drift is a shortfall against the baseline, and a lower one hides more', () => {
      spec().given([registered(), current]).when(command).thenThrows(ForbiddenError);
    });
  });

  describe('When its average PnL is in another currency than the strategy (fixed by its first outcome)', () => {
    it('should refuse it', () => {
      spec()
        .given([registered(null), outcomeRecorded('o-1', 100)])
        .when({ ...register(0.6, 1.5), avgPnl: { amount: 50, currency: 'EUR' } })
        .thenThrows(ValidationError, (e) => e.code === 'GATE.CURRENCY_MISMATCH');
    });
  });

  describe('When the first amount a strategy is given is its baseline', () => {
    it("should fix the strategy's currency: an outcome in another currency is refused", () => {
      spec()
        .given([
          registered(null),
          { ...current, data: { ...current.data, avgPnl: { amount: 40, currency: 'EUR' } } },
        ])
        .when(recordOutcome('o-1', 100))
        .thenThrows(ValidationError, (e) => e.code === 'GATE.CURRENCY_MISMATCH');
    });
  });

  describe('When an admin (who may loosen) lowers it', () => {
    it('should register it', () => {
      spec()
        .given([registered(), current])
        .when(register(0.3, 1.1, 10, false))
        .then([baselineRegistered(0.3, 1.1, 10)]);
    });
  });

  describe('When a system actor, which nobody gave a role, lowers it', () => {
    it('should refuse it even without mayNotLoosen: only operators loosen', () => {
      spec()
        .given([registered(), current])
        .when({ ...register(0.3, 1.1, 10, false), actor: system })
        .thenThrows(
          ForbiddenError,
          (e) =>
            e.code === 'GATE.LOOSENING_FORBIDDEN' &&
            e.message.includes(`it is for operators, not system ${system.id}`),
        );
    });

    it('should still let it register a first or a higher baseline', () => {
      const bySystem = ({ type, data }: typeof current) => ({
        type,
        data: { ...data, registeredBy: system.id },
      });
      spec()
        .given([registered()])
        .when({ ...register(0.55, 1.4, 40, false), actor: system })
        .then([bySystem(current)]);
      spec()
        .given([registered(), current])
        .when({ ...register(0.6, 1.5, 50, false), actor: system })
        .then([bySystem(baselineRegistered(0.6, 1.5, 50))]);
    });
  });
});
