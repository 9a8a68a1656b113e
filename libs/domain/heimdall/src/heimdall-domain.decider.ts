import type {
  Actor,
  DataOf,
  HeimdallDomainView,
  HeimdallPolicy,
  HeimdallPolicyDefined,
  HeimdallProdUseDisabled,
  HeimdallProdUseEnabled,
  HeimdallProdUseRefused,
  HeimdallSandboxTrialRecorded,
  HeimdallThresholds,
} from '@bifrost/contracts';
import { IllegalStateError, NotFoundError, type Decider } from '@bifrost/event-sourcing';
import { sandboxGates } from './evaluation';
import {
  addTrial,
  EMPTY_SCORECARD,
  hasTrial,
  recentDays,
  totalsOf,
  utcDay,
  type Scorecard,
} from './scorecard';

/** One recommendation domain (`bifrost.evt.heimdall.domain.<domain>`): its policy and scorecard. */
export type HeimdallDomainState =
  | { status: 'absent' }
  | {
      status: 'tracked';
      domain: string;
      /** Null while only trials arrived: such a domain is never eligible. */
      policy: HeimdallPolicy | null;
      scorecard: Scorecard;
    };

interface Operator {
  readonly domain: string;
  readonly actor: Actor;
  readonly reason: string;
  readonly now: string;
}

export type HeimdallCommand =
  | {
      type: 'DefinePolicy';
      /** `ifAbsent`: the seed's, which never replaces a policy (an operator's thresholds stay). */
      data: Operator & { thresholds: HeimdallThresholds; ifAbsent?: boolean };
    }
  | { type: 'EnableProdUse'; data: Operator }
  | { type: 'DisableProdUse'; data: Operator }
  | {
      type: 'RecordTrial';
      data: {
        domain: string;
        engineId: string;
        trialId: string;
        success: boolean;
        recommendationId?: string;
        confidence?: number;
        detail?: string;
        /** When the engine says the trial happened: its UTC day is the scorecard day. */
        occurredAt: string;
        now: string;
      };
    };

export type HeimdallEvent =
  | { type: 'PolicyDefined'; data: DataOf<typeof HeimdallPolicyDefined> }
  | { type: 'ProdUseEnabled'; data: DataOf<typeof HeimdallProdUseEnabled> }
  | { type: 'ProdUseDisabled'; data: DataOf<typeof HeimdallProdUseDisabled> }
  | { type: 'ProdUseRefused'; data: DataOf<typeof HeimdallProdUseRefused> }
  | { type: 'SandboxTrialRecorded'; data: DataOf<typeof HeimdallSandboxTrialRecorded> };

/** Days shown per domain in views (the state keeps more, the projector every day). */
export const VIEW_DAYS = 30;

export const heimdallDecider: Decider<HeimdallDomainState, HeimdallCommand, HeimdallEvent, unknown> = {
  stateVersion: 1,
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    switch (command.type) {
      case 'DefinePolicy': {
        const { domain, actor, reason, now, thresholds } = command.data;
        const policy = state.status === 'tracked' ? state.policy : null;
        if (policy && command.data.ifAbsent === true) return [];
        const previous = policy ? thresholdsOf(policy) : null;
        if (previous && sameThresholds(previous, thresholds)) return [];
        return [{ type: 'PolicyDefined', data: { domain, thresholds, previous, actor, reason, at: now } }];
      }
      case 'EnableProdUse': {
        const { domain, actor, reason, now } = command.data;
        const { policy, scorecard } = withPolicy(state, domain);
        if (policy.prodUseEnabled) return [];
        const thresholds = thresholdsOf(policy);
        const failing = sandboxGates(thresholds, scorecard).filter((g) => g.result !== 'PASS');
        const totals = totalsOf(scorecard);
        if (failing.length > 0) {
          // The operator's "yes" is not enough while the scorecard is below the bar; the attempt is kept.
          return [
            {
              type: 'ProdUseRefused',
              data: {
                domain,
                scorecard: totals,
                thresholds,
                failing: failing.map(({ result: _result, ...check }) => check),
                actor,
                reason,
                at: now,
              },
            },
          ];
        }
        return [
          { type: 'ProdUseEnabled', data: { domain, scorecard: totals, thresholds, actor, reason, at: now } },
        ];
      }
      case 'DisableProdUse': {
        const { domain, actor, reason, now } = command.data;
        const { policy } = withPolicy(state, domain);
        if (!policy.prodUseEnabled) return [];
        return [{ type: 'ProdUseDisabled', data: { domain, actor, reason, at: now } }];
      }
      case 'RecordTrial': {
        const { domain, engineId, trialId, success, recommendationId, confidence, detail, occurredAt, now } =
          command.data;
        if (state.status === 'tracked' && hasTrial(state.scorecard, engineId, trialId)) return [];
        return [
          {
            type: 'SandboxTrialRecorded',
            data: {
              domain,
              engineId,
              trialId,
              success,
              day: utcDay(occurredAt),
              ...(recommendationId === undefined ? {} : { recommendationId }),
              ...(confidence === undefined ? {} : { confidence }),
              ...(detail === undefined ? {} : { detail }),
              occurredAt,
              at: now,
            },
          },
        ];
      }
      default: {
        const unknown: never = command;
        throw new IllegalStateError(`unknown command ${JSON.stringify(unknown)}`);
      }
    }
  },

  evolve(state, event) {
    const current =
      state.status === 'tracked'
        ? state
        : { status: 'tracked' as const, domain: event.data.domain, policy: null, scorecard: EMPTY_SCORECARD };
    switch (event.type) {
      case 'PolicyDefined':
        return {
          ...current,
          policy: {
            ...event.data.thresholds,
            prodUseEnabled: current.policy?.prodUseEnabled ?? false,
            updatedAt: event.data.at,
          },
        };
      case 'ProdUseEnabled':
      case 'ProdUseDisabled':
        if (!current.policy) return state;
        return {
          ...current,
          policy: {
            ...current.policy,
            prodUseEnabled: event.type === 'ProdUseEnabled',
            updatedAt: event.data.at,
          },
        };
      case 'ProdUseRefused':
        return state;
      case 'SandboxTrialRecorded':
        return { ...current, scorecard: addTrial(current.scorecard, event.data) };
      default: {
        const _exhaustive: never = event;
        return state;
      }
    }
  },
};

/** A domain's policy and scorecard as operators and the gateway see them. */
export function domainView(state: HeimdallDomainState, domain: string): HeimdallDomainView {
  const scorecard = state.status === 'tracked' ? state.scorecard : EMPTY_SCORECARD;
  return {
    domain,
    policy: state.status === 'tracked' ? state.policy : null,
    scorecard: totalsOf(scorecard),
    days: recentDays(scorecard, VIEW_DAYS),
    lastTrialAt: scorecard.lastTrialAt,
  };
}

function withPolicy(
  state: HeimdallDomainState,
  domain: string,
): { policy: HeimdallPolicy; scorecard: Scorecard } {
  if (state.status !== 'tracked' || !state.policy) {
    throw new NotFoundError(`no Heimdall policy for domain ${domain}`, {
      code: 'HEIMDALL.POLICY_UNKNOWN',
      details: { domain },
    });
  }
  return { policy: state.policy, scorecard: state.scorecard };
}

function thresholdsOf(policy: HeimdallThresholds): HeimdallThresholds {
  const { minConfidence, minSandboxTrials, minSandboxSuccessRate } = policy;
  return { minConfidence, minSandboxTrials, minSandboxSuccessRate };
}

function sameThresholds(a: HeimdallThresholds, b: HeimdallThresholds): boolean {
  return (
    a.minConfidence === b.minConfidence &&
    a.minSandboxTrials === b.minSandboxTrials &&
    a.minSandboxSuccessRate === b.minSandboxSuccessRate
  );
}

/**
 * Sandbox trials a domain needs before its success rate counts. The seed names no number; 50
 * mirrors the evidence Bifrost asks elsewhere before trusting a track record (DESIGN §3: a maturity
 * promotion needs ≥ 50 outcomes at the level). See docs/heimdall.md.
 */
export const DEFAULT_MIN_SANDBOX_TRIALS = 50;
/** Seed 000: "Promote recommendations if >80% success rate"; "Sandbox Success Rate >80%". */
export const DEFAULT_MIN_SANDBOX_SUCCESS_RATE = 0.8;

const seed = (domain: string, minConfidence: number) => ({
  domain,
  thresholds: {
    minConfidence,
    minSandboxTrials: DEFAULT_MIN_SANDBOX_TRIALS,
    minSandboxSuccessRate: DEFAULT_MIN_SANDBOX_SUCCESS_RATE,
  },
});

/**
 * The policies seeded on first start (seed 000 lever 3): WHOLESALE_OFFER 92 %, BUYER_MATCH 90 %,
 * CAPITAL_ROUTE 95 %, FOLLOWUP 90 % confidence; prod use disabled until an operator promotes them.
 */
export const SEED_HEIMDALL_POLICIES: readonly { domain: string; thresholds: HeimdallThresholds }[] = [
  seed('WHOLESALE_OFFER', 0.92),
  seed('BUYER_MATCH', 0.9),
  seed('CAPITAL_ROUTE', 0.95),
  seed('FOLLOWUP', 0.9),
];

/**
 * The commands that seed {@link SEED_HEIMDALL_POLICIES} at `now`. Run them only for domains without a
 * policy: on a domain an operator has tuned, DefinePolicy would put the seed thresholds back.
 */
export function seedHeimdallCommands(now: string): Extract<HeimdallCommand, { type: 'DefinePolicy' }>[] {
  return SEED_HEIMDALL_POLICIES.map(({ domain, thresholds }) => ({
    type: 'DefinePolicy',
    data: {
      domain,
      thresholds,
      actor: { kind: 'system', id: 'heimdall/seed' },
      reason: 'first start',
      now,
      ifAbsent: true,
    },
  }));
}
