import type { Check } from '@bifrost/contracts';
import { ValidationError, fold } from '@bifrost/event-sourcing';

import { decideCheckEffects, strategyChecks } from './strategy.checks';
import { strategyDecider } from './strategy.decider';
import type { StrategyEvent } from './strategy.events';
import { DEFAULT_STRATEGY_POLICY, strategyPolicy } from './strategy.policy';
import {
  HASH_A,
  T0,
  at,
  checkRequest,
  engine,
  operator,
  recordOutcome,
  registered,
  spec,
  usd,
} from './strategy.fixtures';

// A check registers the unknown strategy it names (fail safe at L0) only while its engine has fewer
// than `maxStrategiesPerEngine` registered strategies: an engine inventing a strategy id per check
// must not grow the events stream, the gate's memory and its metrics without bound.

const LIMIT = 3;
const policy = strategyPolicy({ maxStrategiesPerEngine: LIMIT });
const stateOf = (history: StrategyEvent[]) => fold(strategyDecider, history);
const limitCheck = (checks: Check[]) => checks.find((c) => c.name === 'strategyLimit');
const recordCheck = (engineStrategies: number, verdict: 'BLOCK' | 'ALLOW' | 'REQUIRE_APPROVAL' = 'BLOCK') =>
  ({
    type: 'RecordGateCheck',
    request: checkRequest(),
    actionHash: HASH_A,
    verdict,
    approvalId: 'ap-1',
    now: T0,
    actor: engine,
    engineStrategies,
  }) as const;

describe('Strategy registration limit', () => {
  describe('When nothing is configured', () => {
    it('should allow 1 000 strategies per engine', () => {
      expect(DEFAULT_STRATEGY_POLICY.maxStrategiesPerEngine).toBe(1_000);
    });

    it.each([0, 1.5, -1])('should refuse a limit of %s', (value) => {
      expect(() => strategyPolicy({ maxStrategiesPerEngine: value })).toThrow(ValidationError);
    });
  });

  describe('When a check names an unknown strategy of an engine one below the limit', () => {
    it('should register it at L0', () => {
      spec(policy)
        .given([])
        .when(recordCheck(LIMIT - 1))
        .then([registered(null)]);
    });

    it('should explain that this check takes the last place', () => {
      expect(limitCheck(strategyChecks(stateOf([]), checkRequest(), HASH_A, T0, policy, LIMIT - 1))).toEqual({
        name: 'strategyLimit',
        outcome: 'ALLOW',
        value: LIMIT - 1,
        threshold: LIMIT,
        distanceToTrip: 0,
        reason: expect.stringContaining(`strategy ${LIMIT} of at most ${LIMIT}`),
      });
    });
  });

  describe('When a check names an unknown strategy of an engine at the limit', () => {
    it('should register nothing', () => {
      spec(policy).given([]).when(recordCheck(LIMIT)).then([]);
    });

    it('should append nothing even when the verdict would open an approval', () => {
      expect(
        decideCheckEffects(
          stateOf([]),
          { ...recordCheck(LIMIT + 2, 'REQUIRE_APPROVAL'), request: checkRequest() },
          policy,
        ),
      ).toEqual({ events: [], approvalId: null });
    });

    it('should answer BLOCK, saying how to register it', () => {
      expect(limitCheck(strategyChecks(stateOf([]), checkRequest(), HASH_A, T0, policy, LIMIT))).toEqual({
        name: 'strategyLimit',
        outcome: 'BLOCK',
        value: LIMIT,
        threshold: LIMIT,
        distanceToTrip: -1,
        reason: expect.stringMatching(/register.*explicitly.*raises the limit/),
      });
    });
  });

  describe('When the strategy is registered and its engine is beyond the limit', () => {
    it('should check it without the limit', () => {
      expect(
        limitCheck(strategyChecks(stateOf([registered()]), checkRequest(), HASH_A, T0, policy, LIMIT + 5)),
      ).toBeUndefined();
    });

    it('should leave its other effects alone', () => {
      spec(policy)
        .given([registered()])
        .when(recordCheck(LIMIT + 5, 'REQUIRE_APPROVAL'))
        .then([
          {
            type: 'ApprovalRequested',
            data: {
              approvalId: 'ap-1',
              actionHash: HASH_A,
              action: checkRequest().action,
              requestedBy: engine.id,
              expiresAt: at(15 * 60),
              requestedAt: T0,
            },
          },
        ]);
    });
  });

  describe('When an outcome names an unknown strategy', () => {
    it('should register it and record the outcome while its engine is below the limit', () => {
      spec(policy)
        .given([])
        .when({ ...recordOutcome('o-1', 250), engineStrategies: LIMIT - 1 })
        .then([
          registered(null),
          {
            type: 'OutcomeRecorded',
            data: { outcomeId: 'o-1', pnl: usd(250), level: 'L0', recordedAt: T0 },
          },
        ]);
    });

    it('should refuse it at the limit, to be parked and replayed once an operator registered it', () => {
      spec(policy)
        .given([])
        .when({ ...recordOutcome('o-1', 250), engineStrategies: LIMIT })
        .thenThrows(
          ValidationError,
          (e) => e.code === 'GATE.STRATEGY_LIMIT' && /register.*explicitly.*replays/.test(e.message),
        );
    });

    it('should record the outcome of a registered strategy whatever its engine holds', () => {
      spec(policy)
        .given([registered()])
        .when({ ...recordOutcome('o-1', 250), engineStrategies: LIMIT + 5 })
        .then([
          {
            type: 'OutcomeRecorded',
            data: { outcomeId: 'o-1', pnl: usd(250), level: 'L0', recordedAt: T0 },
          },
        ]);
    });
  });

  describe('When an operator registers a strategy of an engine beyond the limit', () => {
    it('should register it: operators are not limited', () => {
      spec(policy)
        .given([])
        .when({
          type: 'RegisterStrategy',
          engineId: 'engine-1',
          strategyId: 'momentum-1',
          now: T0,
          actor: operator,
        })
        .then([registered(null)]);
    });
  });
});
