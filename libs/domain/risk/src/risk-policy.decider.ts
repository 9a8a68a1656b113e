import {
  GLOBAL_POLICY_ID,
  type DataOf,
  type PolicyChangeCause,
  type RiskLimits,
  type RiskPolicy,
  type RiskPolicyDefined,
  type RiskPolicyDisabled,
  type RiskPolicyEnabled,
  type RiskPolicyThrottled,
  type RiskPolicyThrottleLifted,
} from '@bifrost/contracts';
import { IllegalStateError, NotFoundError, ValidationError, type Decider } from '@bifrost/event-sourcing';

/** One policy aggregate (`bifrost.evt.risk.policy.<policyId>`): GLOBAL or one engine's. */
export type PolicyState = { status: 'absent' } | { status: 'defined'; policy: RiskPolicy };

interface PolicyChange {
  readonly policyId: string;
  readonly cause: PolicyChangeCause;
  readonly now: string;
}

export type PolicyCommand =
  | { type: 'DefinePolicy'; data: PolicyChange & { limits: RiskLimits; enabled?: boolean } }
  | { type: 'EnablePolicy'; data: PolicyChange }
  | { type: 'DisablePolicy'; data: PolicyChange }
  | { type: 'ThrottlePolicy'; data: PolicyChange }
  | { type: 'LiftThrottle'; data: PolicyChange };

export type PolicyEvent =
  | { type: 'PolicyDefined'; data: DataOf<typeof RiskPolicyDefined> }
  | { type: 'PolicyEnabled'; data: DataOf<typeof RiskPolicyEnabled> }
  | { type: 'PolicyDisabled'; data: DataOf<typeof RiskPolicyDisabled> }
  | { type: 'PolicyThrottled'; data: DataOf<typeof RiskPolicyThrottled> }
  | { type: 'PolicyThrottleLifted'; data: DataOf<typeof RiskPolicyThrottleLifted> };

/** The installation's currency: GLOBAL's. Every policy counts in it (one ledger, one unit). */
export interface PolicyContext {
  readonly currency: string | undefined;
}

export const policyDecider: Decider<PolicyState, PolicyCommand, PolicyEvent, PolicyContext> = {
  initialState: () => ({ status: 'absent' }),

  decide(command, state, ctx) {
    const { policyId, cause, now } = command.data;
    const base = { policyId, cause, at: now };
    if (command.type === 'DefinePolicy') {
      const { limits } = command.data;
      assertSafeLimits(policyId, limits);
      assertOneCurrency(
        policyId,
        limits,
        state.status === 'defined' || policyId !== GLOBAL_POLICY_ID ? ctx.currency : undefined,
      );
      if (state.status === 'absent') {
        return [
          {
            type: 'PolicyDefined',
            data: { ...base, limits, enabled: command.data.enabled ?? true, previous: null },
          },
        ];
      }
      const enabled = command.data.enabled ?? state.policy.enabled;
      const previous = limitsOf(state.policy);
      if (sameLimits(previous, limits) && enabled === state.policy.enabled) return [];
      return [{ type: 'PolicyDefined', data: { ...base, limits, enabled, previous } }];
    }
    if (state.status === 'absent') {
      throw new NotFoundError(`no risk policy ${policyId}`, {
        code: 'RISK.POLICY_UNKNOWN',
        details: { policyId },
      });
    }
    const { policy } = state;
    switch (command.type) {
      case 'EnablePolicy':
        return policy.enabled ? [] : [{ type: 'PolicyEnabled', data: base }];
      case 'DisablePolicy':
        return policy.enabled ? [{ type: 'PolicyDisabled', data: base }] : [];
      case 'ThrottlePolicy':
        return policy.throttled ? [] : [{ type: 'PolicyThrottled', data: base }];
      case 'LiftThrottle':
        if (cause.kind !== 'operator') {
          throw new IllegalStateError('only an operator lifts a throttle', {
            code: 'RISK.THROTTLE_OPERATOR_ONLY',
          });
        }
        return policy.throttled ? [{ type: 'PolicyThrottleLifted', data: base }] : [];
      default: {
        const unknown: never = command;
        throw new IllegalStateError(`unknown command ${JSON.stringify(unknown)}`);
      }
    }
  },

  evolve(state, event) {
    const { policyId, at } = event.data;
    if (event.type === 'PolicyDefined') {
      const throttled = state.status === 'defined' ? state.policy.throttled : null;
      return {
        status: 'defined',
        policy: { policyId, ...event.data.limits, enabled: event.data.enabled, throttled, updatedAt: at },
      };
    }
    if (state.status === 'absent') return state;
    const policy = state.policy;
    switch (event.type) {
      case 'PolicyEnabled':
        return { status: 'defined', policy: { ...policy, enabled: true, updatedAt: at } };
      case 'PolicyDisabled':
        return { status: 'defined', policy: { ...policy, enabled: false, updatedAt: at } };
      case 'PolicyThrottled':
        return {
          status: 'defined',
          policy: { ...policy, throttled: { since: at, cause: event.data.cause }, updatedAt: at },
        };
      case 'PolicyThrottleLifted':
        return { status: 'defined', policy: { ...policy, throttled: null, updatedAt: at } };
      default: {
        const _exhaustive: never = event;
        return state;
      }
    }
  },
};

function limitsOf(policy: RiskPolicy): RiskLimits {
  return {
    maxDailyLoss: policy.maxDailyLoss,
    maxDailyExposure: policy.maxDailyExposure,
    maxDailyActions: policy.maxDailyActions,
  };
}

function sameLimits(a: RiskLimits, b: RiskLimits): boolean {
  return (
    a.maxDailyLoss.amount === b.maxDailyLoss.amount &&
    a.maxDailyLoss.currency === b.maxDailyLoss.currency &&
    a.maxDailyExposure.amount === b.maxDailyExposure.amount &&
    a.maxDailyExposure.currency === b.maxDailyExposure.currency &&
    a.maxDailyActions === b.maxDailyActions
  );
}

/** A limit JSON cannot carry exactly (above 2^53 − 1) would be stored as another number. */
function assertSafeLimits(policyId: string, limits: RiskLimits): void {
  const values = [limits.maxDailyLoss.amount, limits.maxDailyExposure.amount, limits.maxDailyActions];
  const unsafe = values.find((value) => !Number.isSafeInteger(value) || value < 0);
  if (unsafe !== undefined) {
    throw new ValidationError(
      `policy ${policyId}: limits are non-negative integers up to ${Number.MAX_SAFE_INTEGER}, got ${unsafe}`,
      { code: 'RISK.AMOUNT_INVALID', details: { policyId } },
    );
  }
}

function assertOneCurrency(policyId: string, limits: RiskLimits, required: string | undefined): void {
  const { currency } = limits.maxDailyLoss;
  if (limits.maxDailyExposure.currency !== currency || (required !== undefined && currency !== required)) {
    throw new ValidationError(
      `policy ${policyId} must count in ${required ?? currency}: every limit of every policy uses GLOBAL's currency`,
      { code: 'RISK.CURRENCY_MISMATCH', details: { policyId, required: required ?? currency } },
    );
  }
}

/** Minor units of USD. */
const usd = (dollars: number) => ({ amount: dollars * 100, currency: 'USD' });

/**
 * The policies seeded on first start: loss caps from seed 000 (lever 2); exposure caps at 40×
 * the loss cap (a 2.5 % adverse move on all open exposure stays within the day's loss) and action
 * caps sized to each engine's cadence. NOTIFY starts disabled, so it is denied until enabled.
 */
export const SEED_POLICIES: readonly { policyId: string; limits: RiskLimits; enabled: boolean }[] = [
  {
    policyId: GLOBAL_POLICY_ID,
    limits: { maxDailyLoss: usd(250), maxDailyExposure: usd(10_000), maxDailyActions: 1_000 },
    enabled: true,
  },
  {
    policyId: 'WHOLESALE',
    limits: { maxDailyLoss: usd(200), maxDailyExposure: usd(8_000), maxDailyActions: 500 },
    enabled: true,
  },
  {
    policyId: 'CAPITAL',
    limits: { maxDailyLoss: usd(150), maxDailyExposure: usd(6_000), maxDailyActions: 300 },
    enabled: true,
  },
  {
    policyId: 'NOTIFY',
    limits: { maxDailyLoss: usd(50), maxDailyExposure: usd(2_000), maxDailyActions: 1_000 },
    enabled: false,
  },
];

/** The commands that seed {@link SEED_POLICIES} at `now`. */
export function seedPolicyCommands(now: string): PolicyCommand[] {
  return SEED_POLICIES.map(({ policyId, limits, enabled }) => ({
    type: 'DefinePolicy',
    data: { policyId, limits, enabled, now, cause: { kind: 'seed', id: 'seed', reason: 'first start' } },
  }));
}
