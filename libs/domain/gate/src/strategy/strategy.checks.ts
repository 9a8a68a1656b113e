import type { Actor, Check, GateCheckRequest, VerdictAction } from '@bifrost/contracts';

import { assessDrift } from './strategy.drift';
import type { StrategyEvent } from './strategy.events';
import { healthMultiplier, healthScore } from './strategy.health';
import {
  MATURITY_LADDER,
  drawdown,
  nextMaturityLevel,
  percent,
  profitFactor,
  winRate,
} from './strategy.maturity';
import { DEFAULT_STRATEGY_POLICY, type StrategyPolicy } from './strategy.policy';
import type { RegisteredStrategy, StrategyState } from './strategy.state';
import { assessToken, type TokenAssessment } from './strategy.tokens';
import { addMillis, millis } from './strategy.time';
import { activeStrategyPause, capitalOf, outcomeWindow, registeredView } from './strategy.view';

// Checks are built per request with `...base` last: on Node 20 a literal that starts with a spread and
// adds properties costs ~1 µs and a hidden class of its own (docs/performance.md, "Object spread").
const round = (value: number): number => Math.round(value * 10_000) / 10_000;
const ratio = (value: number): string => (Number.isFinite(value) ? value.toFixed(4) : '∞');

/** Reduce and close shrink exposure: pauses let them through and size caps do not apply to them. */
function reducesExposure(request: GateCheckRequest): boolean {
  return request.action.intent === 'reduce' || request.action.intent === 'close';
}

function presentedToken(
  strategy: RegisteredStrategy,
  request: GateCheckRequest,
  actionHash: string,
  now: string,
): TokenAssessment | null {
  return request.tokenId === undefined
    ? null
    : assessToken(strategy, request.tokenId, request.action, actionHash, now);
}

function promotionProgress(strategy: RegisteredStrategy, policy: StrategyPolicy): string {
  const to = nextMaturityLevel(strategy.level);
  if (to === null) return 'top of the ladder';
  const { minOutcomes, minWinRate, minProfitFactor } = policy.promotion;
  return (
    `promotion to ${to}: ${strategy.stats.outcomes}/${minOutcomes} outcomes, ` +
    `win rate ${ratio(winRate(strategy.stats))} (needs > ${minWinRate}), ` +
    `profit factor ${ratio(profitFactor(strategy.stats))} (needs > ${minProfitFactor})`
  );
}

function maturityCheck(
  strategy: RegisteredStrategy,
  request: GateCheckRequest,
  token: TokenAssessment | null,
  actionHash: string,
  policy: StrategyPolicy,
): Check {
  const { level, pendingDemotion, stats } = strategy;
  const to = nextMaturityLevel(level);
  const base = {
    name: 'maturity',
    value: level,
    threshold: to,
    distanceToTrip: to === null ? null : Math.max(0, policy.promotion.minOutcomes - stats.outcomes),
  };
  const progress = promotionProgress(strategy, policy);
  if (pendingDemotion !== null) {
    const { from, reason, demotedAt } = pendingDemotion;
    return {
      outcome: 'DEMOTE',
      reason: `demoted ${from} → ${level} (${reason}) at ${demotedAt}; this action is blocked, and checks are answered at ${level} once a verdict has answered DEMOTE`,
      ...base,
    };
  }
  const traits = MATURITY_LADDER[level];
  const reducing = reducesExposure(request);
  switch (level) {
    case 'L0':
      return {
        outcome: 'BLOCK',
        reason: `shadow: L0 actions are logged only, never executed; ${progress}`,
        ...base,
      };
    case 'L1':
      return { outcome: 'BLOCK', reason: `paper: L1 trades on paper only; ${progress}`, ...base };
    case 'L2': {
      const approved = token?.valid === true && token.token.boundActionHash === actionHash;
      if (!approved) {
        // The multiplier is the size the approval will grant: reduce-only actions are not sized.
        return reducing
          ? {
              outcome: 'REQUIRE_APPROVAL',
              reason: `gated: every L2 action needs an operator approval; reduce-only, not sized; ${progress}`,
              ...base,
            }
          : {
              outcome: 'REQUIRE_APPROVAL',
              sizeMultiplier: traits.sizeCap,
              reason: `gated: every L2 action needs an operator approval, then sized × ${traits.sizeCap}; ${progress}`,
              ...base,
            };
      }
      return reducing
        ? {
            outcome: 'ALLOW',
            reason: `gated: approved by token; reduce-only, not sized; ${progress}`,
            ...base,
          }
        : {
            outcome: 'REDUCE_SIZE',
            sizeMultiplier: traits.sizeCap,
            reason: `gated: approved by token, sized × ${traits.sizeCap}; ${progress}`,
            ...base,
          };
    }
    case 'L3':
      return reducing
        ? { outcome: 'ALLOW', reason: `constrained: reduce-only, not sized; ${progress}`, ...base }
        : {
            outcome: 'REDUCE_SIZE',
            sizeMultiplier: traits.sizeCap,
            reason: `constrained: sized × ${traits.sizeCap}; ${progress}`,
            ...base,
          };
    case 'L4':
      return { outcome: 'ALLOW', reason: 'autonomous: full size', ...base };
    default: {
      const _exhaustive: never = level;
      return { outcome: 'BLOCK', reason: 'unknown maturity level', ...base };
    }
  }
}

function drawdownCheck(strategy: RegisteredStrategy, policy: StrategyPolicy): Check {
  const dd = drawdown(strategy.stats, capitalOf(strategy, policy));
  const limit = policy.demotion.maxDrawdown;
  return {
    name: 'maturity.drawdown',
    outcome: 'ALLOW',
    value: round(dd),
    threshold: limit,
    distanceToTrip: round(limit - dd),
    reason:
      strategy.level === 'L0'
        ? `drawdown ${percent(dd)} since entering L0; nothing below L0 to demote to`
        : `drawdown ${percent(dd)} since entering ${strategy.level}; demotion above ${percent(limit)}`,
  };
}

function lossStreakCheck(strategy: RegisteredStrategy, policy: StrategyPolicy): Check {
  const streak = strategy.stats.lossStreak;
  const limit = policy.demotion.maxLossStreak;
  return {
    name: 'maturity.loss-streak',
    outcome: 'ALLOW',
    value: streak,
    threshold: limit,
    distanceToTrip: limit - streak,
    reason: `${streak} consecutive losses; demotion above ${limit}`,
  };
}

function healthCheck(strategy: RegisteredStrategy, request: GateCheckRequest, policy: StrategyPolicy): Check {
  const window = outcomeWindow(strategy, policy);
  const score = healthScore(window);
  // A score just below full size is sized below 1: never rounded up to full size, nor down below
  // a floor with more decimals than the rounding keeps.
  const multiplier = Math.max(
    Math.min(
      round(healthMultiplier(score, policy.health)),
      score >= policy.health.fullSizeScore ? 1 : 0.9999,
    ),
    policy.health.floor,
  );
  const base = {
    name: 'health',
    value: round(score),
    threshold: policy.health.fullSizeScore,
    distanceToTrip: round(score - policy.health.fullSizeScore),
  };
  const summary = `health ${ratio(score)} over the last ${window.length} outcomes`;
  if (multiplier >= 1) return { outcome: 'ALLOW', reason: `${summary}: full size`, ...base };
  if (reducesExposure(request)) {
    return { outcome: 'ALLOW', reason: `${summary}: reduce-only, not sized`, ...base };
  }
  return {
    outcome: 'REDUCE_SIZE',
    sizeMultiplier: multiplier,
    reason: `${summary}: sized × ${multiplier} (floor ${policy.health.floor})`,
    ...base,
  };
}

function driftCheck(strategy: RegisteredStrategy, request: GateCheckRequest, policy: StrategyPolicy): Check {
  const { reduceAbove, pauseAbove, reduceMultiplier } = policy.drift;
  const assessment = assessDrift(outcomeWindow(strategy, policy), strategy.baseline, policy);
  if (assessment.status === 'no-baseline') {
    return {
      name: 'drift',
      outcome: 'ALLOW',
      value: null,
      threshold: reduceAbove,
      distanceToTrip: null,
      reason: 'no backtest baseline registered',
    };
  }
  if (assessment.status === 'insufficient-sample') {
    return {
      name: 'drift',
      outcome: 'ALLOW',
      value: null,
      threshold: reduceAbove,
      distanceToTrip: null,
      reason: `drift counts from ${assessment.minSample} outcomes in the window (${assessment.sample} so far)`,
    };
  }
  const { drift, metric } = assessment;
  const threshold = drift > reduceAbove ? pauseAbove : reduceAbove;
  const base = { name: 'drift', value: round(drift), threshold, distanceToTrip: round(threshold - drift) };
  const summary = `drift ${percent(drift)} (worst: ${metric}) against the backtest baseline`;
  if (drift <= reduceAbove) return { outcome: 'ALLOW', reason: summary, ...base };
  if (reducesExposure(request))
    return { outcome: 'ALLOW', reason: `${summary}: reduce-only allowed`, ...base };
  return drift > pauseAbove
    ? { outcome: 'PAUSE', reason: `${summary} > ${percent(pauseAbove)}: paused`, ...base }
    : {
        outcome: 'REDUCE_SIZE',
        sizeMultiplier: reduceMultiplier,
        reason: `${summary} > ${percent(reduceAbove)}: sized × ${reduceMultiplier}`,
        ...base,
      };
}

function pauseCheck(strategy: RegisteredStrategy, request: GateCheckRequest, now: string): Check {
  const pause = activeStrategyPause(strategy, now);
  if (pause === null) {
    const lapsed = strategy.pause?.cooldownUntil;
    return {
      name: 'pause',
      outcome: 'ALLOW',
      value: false,
      threshold: null,
      distanceToTrip: null,
      reason: lapsed ? `not paused (cooldown ended at ${lapsed})` : 'not paused',
    };
  }
  const until = pause.cooldownUntil === null ? 'until resumed' : `until ${pause.cooldownUntil}`;
  const summary = `paused by ${pause.pausedBy} (${pause.reason}) ${until}`;
  return {
    name: 'pause',
    outcome: reducesExposure(request) ? 'ALLOW' : 'PAUSE',
    value: true,
    threshold: pause.cooldownUntil,
    distanceToTrip: null,
    reason: reducesExposure(request) ? `${summary}: reduce-only allowed` : summary,
  };
}

/** Whether a check may register the unknown strategy it names, given its engine's registered strategies. */
export function mayRegisterImplicitly(engineStrategies: number, policy: StrategyPolicy): boolean {
  return engineStrategies < policy.maxStrategiesPerEngine;
}

/**
 * Shown on a check of an unknown strategy only: value = the engine's registered strategies, distance
 * = how many more its checks may register after this one (negative: this one is refused).
 */
function strategyLimitCheck(
  request: GateCheckRequest,
  engineStrategies: number,
  policy: StrategyPolicy,
): Check {
  const limit = policy.maxStrategiesPerEngine;
  const base = {
    name: 'strategyLimit',
    value: engineStrategies,
    threshold: limit,
    distanceToTrip: limit - engineStrategies - 1,
  };
  if (mayRegisterImplicitly(engineStrategies, policy)) {
    return {
      outcome: 'ALLOW',
      reason: `unknown strategy registered at L0 by this check: the engine's strategy ${engineStrategies + 1} of at most ${limit} its checks may register`,
      ...base,
    };
  }
  return {
    outcome: 'BLOCK',
    reason:
      `strategy ${request.strategyId} not registered: engine ${request.engineId} has ${engineStrategies} registered strategies, ` +
      `the most its checks may register (maxStrategiesPerEngine ${limit}); an operator registers it explicitly ` +
      '(strategy.register, POST /api/v1/strategies) or raises the limit in GATE_STRATEGY_POLICY',
    ...base,
  };
}

function tokenCheck(token: TokenAssessment, tokenId: string): Check {
  const base = { name: 'token', value: tokenId, threshold: null, distanceToTrip: null };
  if (!token.valid)
    return { outcome: 'BLOCK', reason: `token refused (${token.reason}): ${token.detail}`, ...base };
  const use = token.token.singleUse ? 'spent' : 'recorded as used';
  return { outcome: 'ALLOW', reason: `token valid; ${use} if the action goes ahead`, ...base };
}

/**
 * The strategy's contribution to a gate verdict: maturity (with its drawdown and loss-streak
 * headroom), health, drift, pause and, when a token is presented, the token. An unknown strategy is
 * checked as the L0 strategy its first check registers, with the `strategyLimit` check:
 * `engineStrategies` is how many registered strategies its engine has (consulted for an unknown
 * strategy only).
 */
export function strategyChecks(
  state: StrategyState,
  request: GateCheckRequest,
  actionHash: string,
  now: string,
  policy: StrategyPolicy = DEFAULT_STRATEGY_POLICY,
  engineStrategies = 0,
): Check[] {
  const { strategy } = registeredView(state, request.engineId, request.strategyId, now);
  const token = presentedToken(strategy, request, actionHash, now);
  return [
    ...(state.status === 'registered' ? [] : [strategyLimitCheck(request, engineStrategies, policy)]),
    maturityCheck(strategy, request, token, actionHash, policy),
    drawdownCheck(strategy, policy),
    lossStreakCheck(strategy, policy),
    healthCheck(strategy, request, policy),
    driftCheck(strategy, request, policy),
    pauseCheck(strategy, request, now),
    ...(token === null || request.tokenId === undefined ? [] : [tokenCheck(token, request.tokenId)]),
  ];
}

export interface CheckEffectsInput {
  readonly request: GateCheckRequest;
  readonly actionHash: string;
  /**
   * The action the engine is answered: in `observe` and `off` mode ALLOW (KILL under the kill
   * switch), so a presented token is used (the engine goes ahead) and no approval is opened (it
   * does not wait for one).
   */
  readonly verdict: VerdictAction;
  /** In `observe` mode, what enforce mode would have answered (the verdict's `wouldBe.action`). */
  readonly wouldBe?: VerdictAction;
  /** Id of the approval request to open if the verdict is REQUIRE_APPROVAL. */
  readonly approvalId: string;
  readonly now: string;
  /** Who asked: the requester of an approval this check opens. */
  readonly actor: Actor;
  /**
   * Registered strategies of the request's engine, from the gate's state: an unknown strategy is
   * registered only below `maxStrategiesPerEngine`. 0 when omitted.
   */
  readonly engineStrategies?: number;
}

export interface CheckEffects {
  /** To append to the strategy's subject together with the decision record. */
  readonly events: StrategyEvent[];
  /** The approval the engine must wait for: a new one, or the one already pending for this action. */
  readonly approvalId: string | null;
}

/**
 * What a check leaves behind on the strategy once the verdict is composed: the implicit
 * registration of an unknown strategy, the acknowledgement of a demotion the verdict answered, the
 * use of a presented token when the action goes ahead (ALLOW or REDUCE_SIZE), and an approval
 * request bound to the action's hash when the verdict is REQUIRE_APPROVAL (an identical pending
 * request is reused). An unknown strategy of an engine at `maxStrategiesPerEngine` is left
 * unregistered, with nothing appended (any event would create it).
 */
export function decideCheckEffects(
  state: StrategyState,
  input: CheckEffectsInput,
  policy: StrategyPolicy = DEFAULT_STRATEGY_POLICY,
): CheckEffects {
  const { request, actionHash, verdict, now } = input;
  const { strategy, registration } = registeredView(state, request.engineId, request.strategyId, now);
  if (registration.length > 0 && !mayRegisterImplicitly(input.engineStrategies ?? 0, policy))
    return { events: [], approvalId: null };
  const events: StrategyEvent[] = [...registration];
  const demotion = strategy.pendingDemotion;
  // Told only by a verdict of DEMOTE (observe mode's `wouldBe`): under a kill switch or a pause,
  // which outrank it, and in off mode, the demotion waits for the first check that answers it.
  if (demotion !== null && (input.wouldBe ?? verdict) === 'DEMOTE') {
    const { from, to, demotedAt } = demotion;
    events.push({ type: 'DemotionAcknowledged', data: { from, to, demotedAt, acknowledgedAt: now } });
  }
  const goesAhead = verdict === 'ALLOW' || verdict === 'REDUCE_SIZE';
  const token = presentedToken(strategy, request, actionHash, now);
  if (goesAhead && token?.valid === true) {
    events.push({
      type: 'TokenConsumed',
      data: { tokenId: token.token.tokenId, actionHash, singleUse: token.token.singleUse, consumedAt: now },
    });
  } else if (token?.valid === false && token.reason !== 'unknown') {
    // A token of this strategy presented for what it does not cover: counted on the token. An id it
    // never issued is only in the verdict (no token to count it on, and no event per made-up id).
    const { reason, detail } = token;
    events.push({
      type: 'TokenRefused',
      data: { tokenId: request.tokenId as string, actionHash, reason, detail, refusedAt: now },
    });
  }
  if (verdict !== 'REQUIRE_APPROVAL') return { events, approvalId: null };
  const pending = Object.values(strategy.approvals).find(
    (a) => a.status === 'pending' && a.actionHash === actionHash && millis(now, 'now') < millis(a.expiresAt),
  );
  if (pending !== undefined) return { events, approvalId: pending.approvalId };
  events.push({
    type: 'ApprovalRequested',
    data: {
      approvalId: input.approvalId,
      actionHash,
      action: request.action,
      requestedBy: input.actor.id,
      expiresAt: addMillis(now, policy.approvalTtlMs),
      requestedAt: now,
    },
  });
  return { events, approvalId: input.approvalId };
}
