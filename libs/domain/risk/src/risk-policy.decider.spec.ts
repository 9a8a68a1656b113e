import type { RiskLimits } from '@bifrost/contracts';
import {
  DeciderSpecification,
  IllegalStateError,
  NotFoundError,
  ValidationError,
} from '@bifrost/event-sourcing';
import {
  policyDecider,
  SEED_POLICIES,
  seedPolicyCommands,
  type PolicyCommand,
  type PolicyEvent,
} from './risk-policy.decider';

const T0 = '2026-11-21T12:00:00.000Z';
const OPERATOR = { kind: 'operator' as const, id: 'alice', reason: 'tuning' };
const TRIPWIRE = { kind: 'tripwire' as const, id: 'evt-42', reason: 'contract_rate regressed' };

describe('Risk policy', () => {
  const spec = DeciderSpecification.for(policyDecider, { currency: 'USD' });

  describe('Given no policy', () => {
    it('should define it, enabled by default', () => {
      spec
        .given([])
        .when(define('E1', limits(600)))
        .then([defined('E1', limits(600), true, null)]);
    });

    it('should define GLOBAL in any currency when there is no GLOBAL yet', () => {
      spec
        .given([])
        .when(define('GLOBAL', limits(600, 'EUR')), { currency: undefined })
        .then([defined('GLOBAL', limits(600, 'EUR'), true, null)]);
    });

    it('should refuse an engine policy in another currency than GLOBAL', () => {
      spec
        .given([])
        .when(define('E1', limits(600, 'EUR')))
        .thenThrows(ValidationError, (e) => e.code === 'RISK.CURRENCY_MISMATCH');
    });

    it('should refuse limits in two currencies', () => {
      const mixed = { ...limits(600), maxDailyExposure: { amount: 1, currency: 'EUR' } };
      spec
        .given([])
        .when(define('E1', mixed))
        .thenThrows(ValidationError, (e) => e.code === 'RISK.CURRENCY_MISMATCH');
    });

    it.each([
      ['a loss limit above 2^53 - 1', { ...limits(600), maxDailyLoss: { amount: 2 ** 53, currency: 'USD' } }],
      [
        'an exposure limit above 2^53 - 1',
        { ...limits(600), maxDailyExposure: { amount: 2 ** 54, currency: 'USD' } },
      ],
      ['an action limit of 1e300', { ...limits(600), maxDailyActions: 1e300 }],
    ])('should refuse %s: it would be stored as another number', (_what, unsafe) => {
      spec
        .given([])
        .when(define('E1', unsafe as RiskLimits))
        .thenThrows(ValidationError, (e) => e.code === 'RISK.AMOUNT_INVALID');
    });

    it('should accept limits of exactly 2^53 - 1', () => {
      const largest = {
        maxDailyLoss: { amount: Number.MAX_SAFE_INTEGER, currency: 'USD' },
        maxDailyExposure: { amount: Number.MAX_SAFE_INTEGER, currency: 'USD' },
        maxDailyActions: Number.MAX_SAFE_INTEGER,
      };
      spec
        .given([])
        .when(define('E1', largest))
        .then([defined('E1', largest, true, null)]);
    });

    it('should not enable, disable, throttle or lift what does not exist', () => {
      for (const type of ['EnablePolicy', 'DisablePolicy', 'ThrottlePolicy', 'LiftThrottle'] as const) {
        spec
          .given([])
          .when(change(type, 'E1'))
          .thenThrows(NotFoundError, (e) => e.code === 'RISK.POLICY_UNKNOWN');
      }
    });
  });

  describe('Given an enabled policy', () => {
    const history = [defined('E1', limits(600), true, null)];

    it('should change its limits, recording the previous ones', () => {
      spec
        .given(history)
        .when(define('E1', limits(700)))
        .then([defined('E1', limits(700), true, limits(600))]);
    });

    it('should do nothing when the limits are the same', () => {
      spec
        .given(history)
        .when(define('E1', limits(600)))
        .thenNothingHappened();
    });

    it('should refuse to move GLOBAL to another currency', () => {
      spec
        .given([defined('GLOBAL', limits(600), true, null)])
        .when(define('GLOBAL', limits(600, 'EUR')))
        .thenThrows(ValidationError, (e) => e.code === 'RISK.CURRENCY_MISMATCH');
    });

    it('should disable it once', () => {
      spec
        .given(history)
        .when(change('DisablePolicy', 'E1'))
        .then([event('PolicyDisabled', 'E1', OPERATOR)]);
      spec.given(history).when(change('EnablePolicy', 'E1')).thenNothingHappened();
    });

    it('should be throttled by a tripwire, with the tripwire event as cause', () => {
      spec
        .given(history)
        .when(change('ThrottlePolicy', 'E1', TRIPWIRE))
        .then([event('PolicyThrottled', 'E1', TRIPWIRE)]);
    });
  });

  describe('Given a disabled policy', () => {
    const history = [defined('E1', limits(600), true, null), event('PolicyDisabled', 'E1', OPERATOR)];

    it('should enable it', () => {
      spec
        .given(history)
        .when(change('EnablePolicy', 'E1'))
        .then([event('PolicyEnabled', 'E1', OPERATOR)]);
    });

    it('should keep it disabled when an upsert without enabled changes its limits', () => {
      spec
        .given(history)
        .when(define('E1', limits(700)))
        .then([defined('E1', limits(700), false, limits(600))]);
    });
  });

  describe('Given a throttled policy', () => {
    const history = [defined('E1', limits(600), true, null), event('PolicyThrottled', 'E1', TRIPWIRE)];

    it('should ignore a second throttle', () => {
      spec
        .given(history)
        .when(change('ThrottlePolicy', 'E1', TRIPWIRE))
        .thenNothingHappened();
    });

    it('should let an operator lift it', () => {
      spec
        .given(history)
        .when(change('LiftThrottle', 'E1'))
        .then([event('PolicyThrottleLifted', 'E1', OPERATOR)]);
    });

    it('should not let a tripwire lift it', () => {
      spec
        .given(history)
        .when(change('LiftThrottle', 'E1', TRIPWIRE))
        .thenThrows(IllegalStateError, (e) => e.code === 'RISK.THROTTLE_OPERATOR_ONLY');
    });

    it('should stay throttled when its limits change', () => {
      const state = [...history, defined('E1', limits(700), true, limits(600))].reduce(
        policyDecider.evolve,
        policyDecider.initialState(),
      );
      expect(state.status === 'defined' && state.policy.throttled).toEqual({ since: T0, cause: TRIPWIRE });
    });
  });

  describe('Seed', () => {
    it('should hold the seed loss caps: GLOBAL 250, WHOLESALE 200, CAPITAL 150 USD, NOTIFY disabled', () => {
      expect(SEED_POLICIES.map((p) => [p.policyId, p.limits.maxDailyLoss, p.enabled])).toEqual([
        ['GLOBAL', { amount: 25_000, currency: 'USD' }, true],
        ['WHOLESALE', { amount: 20_000, currency: 'USD' }, true],
        ['CAPITAL', { amount: 15_000, currency: 'USD' }, true],
        ['NOTIFY', { amount: 5_000, currency: 'USD' }, false],
      ]);
    });

    it('should hold the exposure caps at 40x the loss caps and the action caps of docs/risk.md', () => {
      expect(
        SEED_POLICIES.map((p) => [p.policyId, p.limits.maxDailyExposure, p.limits.maxDailyActions]),
      ).toEqual([
        ['GLOBAL', { amount: 1_000_000, currency: 'USD' }, 1_000],
        ['WHOLESALE', { amount: 800_000, currency: 'USD' }, 500],
        ['CAPITAL', { amount: 600_000, currency: 'USD' }, 300],
        ['NOTIFY', { amount: 200_000, currency: 'USD' }, 1_000],
      ]);
    });

    it('should seed each policy on an empty history', () => {
      for (const command of seedPolicyCommands(T0)) {
        const events = policyDecider.decide(command, policyDecider.initialState(), { currency: undefined });
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({
          type: 'PolicyDefined',
          data: { cause: { kind: 'seed' }, previous: null },
        });
      }
    });
  });
});

// ── fixtures ────────────────────────────────────────────────────────────────────────────────────

function limits(loss: number, currency = 'USD'): RiskLimits {
  return {
    maxDailyLoss: { amount: loss, currency },
    maxDailyExposure: { amount: loss * 10, currency },
    maxDailyActions: 10,
  };
}
function define(policyId: string, l: RiskLimits): PolicyCommand {
  return { type: 'DefinePolicy', data: { policyId, limits: l, cause: OPERATOR, now: T0 } };
}
function change(
  type: Exclude<PolicyCommand['type'], 'DefinePolicy'>,
  policyId: string,
  cause: typeof OPERATOR | typeof TRIPWIRE = OPERATOR,
): PolicyCommand {
  return { type, data: { policyId, cause, now: T0 } };
}
function defined(
  policyId: string,
  l: RiskLimits,
  enabled: boolean,
  previous: RiskLimits | null,
): PolicyEvent {
  return { type: 'PolicyDefined', data: { policyId, cause: OPERATOR, at: T0, limits: l, enabled, previous } };
}
function event(
  type: Exclude<PolicyEvent['type'], 'PolicyDefined'>,
  policyId: string,
  cause: typeof OPERATOR | typeof TRIPWIRE,
): PolicyEvent {
  return { type, data: { policyId, cause, at: T0 } };
}
