import { own } from '../own';
import type { Actor, Money } from '@bifrost/contracts';
import {
  ForbiddenError,
  IllegalStateError,
  NotFoundError,
  ValidationError,
  type Decider,
} from '@bifrost/event-sourcing';

import { decideCheckEffects, mayRegisterImplicitly } from './strategy.checks';
import type {
  ApproveRequest,
  ConsumeToken,
  IssueToken,
  OverrideMaturity,
  PauseStrategy,
  RecordOutcome,
  RegisterBaseline,
  RejectRequest,
  ResumeStrategy,
  RevokeAllTokens,
  RevokeToken,
  SetStrategyCapital,
  StrategyCommand,
} from './strategy.commands';
import { assessDrift } from './strategy.drift';
import type { StrategyEvent } from './strategy.events';
import { evolveStrategy } from './strategy.evolve';
import { demotionFor, finiteOrNull, promotionFor } from './strategy.maturity';
import type { StrategyPolicy } from './strategy.policy';
import {
  initialStrategyState,
  type ApprovalRecord,
  type RegisteredStrategy,
  type StrategyState,
} from './strategy.state';
import { assessToken } from './strategy.tokens';
import { addMillis, isBefore, millis } from './strategy.time';
import {
  activeStrategyPause,
  capitalOf,
  outcomeWindow,
  registeredView,
  strategyRegistered,
} from './strategy.view';

/** Who records automatic decisions (drift pauses) in `pausedBy`. */
export const GATE_ACTOR_ID = 'gate';

type Kind = Actor['kind'];

function requireActor(actor: Actor, allowed: readonly Kind[], what: string): void {
  if (!allowed.includes(actor.kind)) {
    throw new ForbiddenError(`${what} is for ${allowed.join(' or ')} actors, not ${actor.kind} ${actor.id}`, {
      code: 'GATE.ACTOR_FORBIDDEN',
    });
  }
}

function requireRegistered(state: StrategyState): RegisteredStrategy {
  if (state.status !== 'registered') {
    throw new NotFoundError(
      'unknown strategy: it is registered by its first check or outcome, or by an operator (strategy.register, POST /api/v1/strategies)',
      {
        code: 'GATE.STRATEGY_UNKNOWN',
      },
    );
  }
  return state;
}

function requireText(value: string | undefined, field: string): string {
  const text = value?.trim() ?? '';
  if (text === '') throw new ValidationError(`${field} is required`, { code: 'GATE.REASON_REQUIRED' });
  return text;
}

function requireFuture(timestamp: string, now: string, field: string): void {
  if (millis(timestamp, field) <= millis(now, 'now')) {
    throw new ValidationError(`${field} ${timestamp} must be after now (${now})`, {
      code: 'GATE.TIME_IN_PAST',
    });
  }
}

/**
 * A new token lives at most `maxTokenTtlMs` from `now`. Only commands are checked: a token issued
 * before the cap (an event) stays valid until its own `expiresAt` when state is rebuilt.
 */
function requireTokenLifetime(expiresAt: string, now: string, policy: StrategyPolicy, field: string): void {
  const { maxTokenTtlMs } = policy;
  if (millis(expiresAt, field) - millis(now, 'now') > maxTokenTtlMs) {
    const latestExpiresAt = addMillis(now, maxTokenTtlMs);
    throw new ValidationError(
      `${field} ${expiresAt} is too far ahead: a token lives at most ${maxTokenTtlMs} ms (maxTokenTtlMs), so ${field} may be ${latestExpiresAt} at the latest`,
      { code: 'GATE.TOKEN_TTL_TOO_LONG', details: { maxTokenTtlMs, latestExpiresAt } },
    );
  }
}

/** Every amount of a strategy is in one currency: that of the first amount it was given. */
function requireCurrency(strategy: RegisteredStrategy, money: Money, field: string): void {
  if (strategy.currency !== null && strategy.currency !== money.currency) {
    throw new ValidationError(
      `${field} is in ${money.currency}; this strategy accounts in ${strategy.currency}`,
      {
        code: 'GATE.CURRENCY_MISMATCH',
      },
    );
  }
}

function requirePositive(money: Money, field: string): void {
  if (money.amount <= 0)
    throw new ValidationError(`${field} must be positive`, { code: 'VALIDATION.FAILED' });
}

const applied = (state: StrategyState, events: readonly StrategyEvent[]): StrategyState =>
  events.reduce(evolveStrategy, state);

function setCapital(state: StrategyState, command: SetStrategyCapital): StrategyEvent[] {
  const strategy = requireRegistered(state);
  requireActor(command.actor, ['operator'], 'setting capital');
  requirePositive(command.capital, 'capital');
  requireCurrency(strategy, command.capital, 'capital');
  if (strategy.capital?.amount === command.capital.amount) return [];
  return [
    {
      type: 'StrategyCapitalSet',
      data: { capital: command.capital, setBy: command.actor.id, setAt: command.now },
    },
  ];
}

/**
 * Records the outcome, then what it causes: a demotion (checked first: protection beats
 * promotion) or a promotion, and a drift pause when the outcome pushes drift over the pause
 * threshold while the strategy is not paused until resumed. An outcome already recorded records
 * nothing, but what the strategy's state still implies is decided again: the events of one
 * outcome are appended one message each, so a failure after `OutcomeRecorded` would otherwise lose
 * its demotion for good (the redelivered outcome is a duplicate). An outcome of an unknown
 * strategy registers it, but not past `maxStrategiesPerEngine`: that one is refused
 * (GATE.STRATEGY_LIMIT), and parked by the gate.
 */
function recordOutcome(
  state: StrategyState,
  command: RecordOutcome,
  policy: StrategyPolicy,
): StrategyEvent[] {
  const { now, pnl, outcomeId } = command;
  const { strategy, registration } = registeredView(state, command.engineId, command.strategyId, now);
  const engineStrategies = command.engineStrategies ?? 0;
  if (registration.length > 0 && !mayRegisterImplicitly(engineStrategies, policy)) {
    throw new ValidationError(
      `strategy ${command.strategyId} not registered: engine ${command.engineId} has ${engineStrategies} ` +
        `registered strategies, the most its checks and outcomes may register (maxStrategiesPerEngine ` +
        `${policy.maxStrategiesPerEngine}); an operator registers it explicitly, then replays the outcome`,
      { code: 'GATE.STRATEGY_LIMIT' },
    );
  }
  if (strategy.recent.some((o) => o.outcomeId === outcomeId)) return consequences(strategy, policy, now);
  requireCurrency(strategy, pnl, 'pnl');
  const recorded: StrategyEvent = {
    type: 'OutcomeRecorded',
    data: { outcomeId, pnl, level: strategy.level, recordedAt: now },
  };
  const after = applied(strategy, [recorded]) as RegisteredStrategy;
  return [...registration, recorded, ...consequences(after, policy, now)];
}

/** What a strategy's recorded outcomes call for: a demotion or a promotion, and a drift pause. */
function consequences(strategy: RegisteredStrategy, policy: StrategyPolicy, now: string): StrategyEvent[] {
  const events: StrategyEvent[] = [];
  const demotion = demotionFor(strategy.level, strategy.stats, capitalOf(strategy, policy), policy);
  const promotion = demotion === null ? promotionFor(strategy.level, strategy.stats, policy) : null;
  if (demotion !== null) {
    const { to, reason, drawdown, lossStreak, detail } = demotion;
    events.push({
      type: 'MaturityDemoted',
      data: { from: strategy.level, to, reason, drawdown, lossStreak, detail, demotedAt: now },
    });
  } else if (promotion !== null) {
    const { outcomes, winRate, profitFactor } = promotion.evidence;
    events.push({
      type: 'MaturityPromoted',
      data: {
        from: strategy.level,
        to: promotion.to,
        evidence: { outcomes, winRate, profitFactor: finiteOrNull(profitFactor) },
        promotedAt: now,
      },
    });
  }
  const drift = assessDrift(outcomeWindow(strategy, policy), strategy.baseline, policy);
  const { pauseAbove } = policy.drift;
  // A pause in force that lifts itself by its cooldown does not stand for drift's, which holds
  // until an operator resumes the strategy.
  const pause = activeStrategyPause(strategy, now);
  if (drift.status === 'measured' && drift.drift > pauseAbove && pause?.cooldownUntil !== null) {
    events.push({
      type: 'StrategyPaused',
      data: {
        reason: 'drift',
        drift: { value: drift.drift, threshold: pauseAbove },
        cooldownUntil: null,
        pausedBy: GATE_ACTOR_ID,
        pausedAt: now,
      },
    });
  }
  return events;
}

function overrideMaturity(state: StrategyState, command: OverrideMaturity): StrategyEvent[] {
  const strategy = requireRegistered(state);
  requireActor(command.actor, ['operator'], 'a maturity override');
  const reason = requireText(command.reason, 'reason');
  if (strategy.level === command.level) return [];
  return [
    {
      type: 'MaturityOverridden',
      data: {
        from: strategy.level,
        to: command.level,
        reason,
        overriddenBy: command.actor.id,
        overriddenAt: command.now,
      },
    },
  ];
}

function registerBaseline(state: StrategyState, command: RegisterBaseline): StrategyEvent[] {
  const strategy = requireRegistered(state);
  requireActor(command.actor, ['operator', 'system'], 'registering a baseline');
  const { winRate, profitFactor, avgPnl } = command;
  if (!(winRate >= 0 && winRate <= 1) || !(profitFactor > 0)) {
    throw new ValidationError('baseline needs a win rate in [0, 1] and a positive profit factor', {
      code: 'VALIDATION.FAILED',
    });
  }
  if (avgPnl !== undefined) requireCurrency(strategy, avgPnl, 'avgPnl');
  const current = strategy.baseline;
  if (
    current !== null &&
    current.winRate === winRate &&
    current.profitFactor === profitFactor &&
    current.avgPnl?.amount === avgPnl?.amount &&
    current.avgPnl?.currency === avgPnl?.currency
  ) {
    return [];
  }
  // Drift is a shortfall against the baseline: a lower one lets a strategy fall further behind.
  const lowered =
    current !== null &&
    (winRate < current.winRate ||
      profitFactor < current.profitFactor ||
      (current.avgPnl !== null && (avgPnl === undefined || avgPnl.amount < current.avgPnl.amount)));
  // Only a person may loosen, and only one the gateway lets (admin): no automation sends baselines,
  // and a system actor is no one's role to check.
  if (lowered && (command.mayNotLoosen || command.actor.kind !== 'operator')) {
    throw new ForbiddenError(
      command.actor.kind === 'operator'
        ? 'lowering a strategy’s baseline loosens its drift check: it needs the admin role'
        : `lowering a strategy’s baseline loosens its drift check: it is for operators, not ${command.actor.kind} ${command.actor.id}`,
      {
        code: 'GATE.LOOSENING_FORBIDDEN',
        details: {
          current: { winRate: current.winRate, profitFactor: current.profitFactor, avgPnl: current.avgPnl },
        },
      },
    );
  }
  return [
    {
      type: 'BaselineRegistered',
      data: {
        winRate,
        profitFactor,
        avgPnl: avgPnl ?? null,
        source: command.source ?? null,
        registeredBy: command.actor.id,
        registeredAt: command.now,
      },
    },
  ];
}

function pauseStrategy(state: StrategyState, command: PauseStrategy): StrategyEvent[] {
  const strategy = requireRegistered(state);
  requireActor(command.actor, ['operator', 'system'], 'pausing a strategy');
  const reason = requireText(command.reason, 'reason');
  const cooldownUntil = command.cooldownUntil ?? null;
  if (cooldownUntil !== null) requireFuture(cooldownUntil, command.now, 'cooldownUntil');
  const current = activeStrategyPause(strategy, command.now);
  // A second pause may extend the one in force (later cooldown, or none) but never shorten it: a
  // 60 s pause must not turn an open-ended one (an operator's, or drift's) into one that lifts itself.
  if (current !== null && !outlasts(cooldownUntil, current.cooldownUntil)) return [];
  return [
    {
      type: 'StrategyPaused',
      data: { reason, drift: null, cooldownUntil, pausedBy: command.actor.id, pausedAt: command.now },
    },
  ];
}

/** Whether a pause until `next` outlasts one until `current` (null: until resumed). */
function outlasts(next: string | null, current: string | null): boolean {
  if (current === null) return false;
  return next === null || isBefore(current, next);
}

function resumeStrategy(state: StrategyState, command: ResumeStrategy): StrategyEvent[] {
  const strategy = requireRegistered(state);
  requireActor(command.actor, ['operator'], 'resuming a strategy');
  if (activeStrategyPause(strategy, command.now) === null) return [];
  return [
    {
      type: 'StrategyResumed',
      data: { reason: command.reason ?? null, resumedBy: command.actor.id, resumedAt: command.now },
    },
  ];
}

function issueToken(state: StrategyState, command: IssueToken, policy: StrategyPolicy): StrategyEvent[] {
  const strategy = requireRegistered(state);
  requireActor(command.actor, ['operator'], 'issuing a token');
  const { tokenId, scope, expiresAt, singleUse } = command;
  const maxNotional = command.maxNotional ?? null;
  const boundActionHash = command.boundActionHash ?? null;
  const existing = own(strategy.tokens, tokenId);
  if (existing !== undefined) {
    const same =
      existing.expiresAt === expiresAt &&
      existing.singleUse === singleUse &&
      existing.boundActionHash === boundActionHash &&
      existing.maxNotional?.amount === maxNotional?.amount &&
      existing.maxNotional?.currency === maxNotional?.currency &&
      existing.actionKinds.length === scope.actionKinds.length &&
      existing.actionKinds.every((kind, i) => kind === scope.actionKinds[i]);
    // The same issue again (a retry after a lost reply, by `tokenId` or `idempotencyKey`).
    if (same) return [];
    throw new IllegalStateError(
      `token ${tokenId} already exists with other parameters: an issue sent again (same tokenId or idempotencyKey) must repeat them`,
      { code: 'GATE.TOKEN_EXISTS' },
    );
  }
  requireFuture(expiresAt, command.now, 'expiresAt');
  requireTokenLifetime(expiresAt, command.now, policy, 'expiresAt');
  if (scope.actionKinds.length === 0) {
    throw new ValidationError('a token must cover at least one action kind', { code: 'VALIDATION.FAILED' });
  }
  if (maxNotional !== null) requirePositive(maxNotional, 'maxNotional');
  return [
    {
      type: 'TokenIssued',
      data: {
        tokenId,
        scope: { actionKinds: [...scope.actionKinds] },
        maxNotional,
        expiresAt,
        singleUse,
        boundActionHash,
        approvalId: null,
        issuedBy: command.actor.id,
        issuedAt: command.now,
      },
    },
  ];
}

const usable = (token: { status: string; expiresAt: string }, now: string): boolean =>
  token.status === 'active' && millis(now, 'now') < millis(token.expiresAt);

function revokeToken(state: StrategyState, command: RevokeToken): StrategyEvent[] {
  const strategy = requireRegistered(state);
  requireActor(command.actor, ['operator', 'system'], 'revoking a token');
  const token = own(strategy.tokens, command.tokenId);
  if (token === undefined) {
    throw new NotFoundError(`no token ${command.tokenId} for this strategy`, { code: 'GATE.TOKEN_UNKNOWN' });
  }
  if (!usable(token, command.now)) return [];
  return [
    {
      type: 'TokenRevoked',
      data: {
        tokenId: token.tokenId,
        reason: command.reason ?? null,
        revokedBy: command.actor.id,
        revokedAt: command.now,
      },
    },
  ];
}

/**
 * Revokes every token still usable and closes (rejects) every approval request still open: nothing
 * issued or asked before the revoke may let the strategy act after it; a check asks anew. Each is
 * decided from state, so a retry after an append cut between the events completes the rest.
 */
function revokeAllTokens(state: StrategyState, command: RevokeAllTokens): StrategyEvent[] {
  const strategy = requireRegistered(state);
  requireActor(command.actor, ['operator', 'system'], 'revoking tokens');
  const { now, actor } = command;
  const reason = command.reason ?? null;
  const approvals = Object.values(strategy.approvals);
  const tokenIds = [
    ...Object.values(strategy.tokens)
      .filter((t) => usable(t, now))
      .map((t) => t.tokenId),
    // The token of a grant whose append stopped before it, which a retry of the grant would issue.
    ...approvals.flatMap((a) => unstoredToken(strategy, a, now)?.tokenId ?? []),
  ];
  const revoked: StrategyEvent[] =
    tokenIds.length === 0
      ? []
      : [{ type: 'TokensRevoked', data: { tokenIds, reason, revokedBy: actor.id, revokedAt: now } }];
  const closed = approvals
    .filter((a) => a.status === 'pending' && millis(now, 'now') < millis(a.expiresAt))
    .map(
      (a): StrategyEvent => ({
        type: 'ApprovalRejected',
        data: {
          approvalId: a.approvalId,
          rejectedBy: actor.id,
          reason: reason === null ? 'every token revoked' : `every token revoked: ${reason}`,
          rejectedAt: now,
        },
      }),
    );
  return [...revoked, ...closed];
}

function consumeToken(state: StrategyState, command: ConsumeToken): StrategyEvent[] {
  const strategy = requireRegistered(state);
  const { tokenId, actionHash, now } = command;
  const assessment = assessToken(strategy, tokenId, command.action, actionHash, now);
  if (!assessment.valid) {
    const { reason, detail } = assessment;
    return [{ type: 'TokenRefused', data: { tokenId, actionHash, reason, detail, refusedAt: now } }];
  }
  return [
    {
      type: 'TokenConsumed',
      data: { tokenId, actionHash, singleUse: assessment.token.singleUse, consumedAt: now },
    },
  ];
}

function approveRequest(
  state: StrategyState,
  command: ApproveRequest,
  policy: StrategyPolicy,
): StrategyEvent[] {
  const strategy = requireRegistered(state);
  requireActor(command.actor, ['operator'], 'approving');
  const { approvalId, approver, tokenId, tokenExpiresAt, now } = command;
  const approval = own(strategy.approvals, approvalId);
  if (approval === undefined) {
    throw new NotFoundError(`no approval request ${approvalId}`, { code: 'GATE.APPROVAL_UNKNOWN' });
  }
  if (approval.status === 'granted' && approval.tokenId !== null) {
    // Its token is the second event of one append: if the append stopped between the two, a retry
    // (whatever token id it brings: each request mints one) completes the grant with the token the
    // grant named, rather than leave it without its token for good. Only while that token would
    // live: one missing after is spent, revoked or expired, and pruned, not lost.
    const unstored = unstoredToken(strategy, approval, now);
    if (unstored !== undefined) return [approvalToken(approval, { ...command, ...unstored }, policy)];
    // This very grant again (a retry whose answer was lost): nothing more to do.
    if (own(strategy.tokens, approval.tokenId) !== undefined && approval.tokenId === tokenId) return [];
  }
  if (approval.status !== 'pending') {
    throw new IllegalStateError(`approval ${approvalId} is already ${approval.status}`, {
      code: 'GATE.APPROVAL_NOT_PENDING',
    });
  }
  if (millis(now, 'now') >= millis(approval.expiresAt)) {
    throw new IllegalStateError(`approval ${approvalId} expired at ${approval.expiresAt}`, {
      code: 'GATE.APPROVAL_EXPIRED',
    });
  }
  if (approver === approval.requestedBy || command.actor.id === approval.requestedBy) {
    throw new ForbiddenError(`${approval.requestedBy} cannot approve their own request`, {
      code: 'GATE.SELF_APPROVAL',
    });
  }
  if (own(strategy.tokens, tokenId) !== undefined) {
    throw new IllegalStateError(`token ${tokenId} already exists`, { code: 'GATE.TOKEN_EXISTS' });
  }
  return [
    { type: 'ApprovalGranted', data: { approvalId, approver, tokenId, tokenExpiresAt, grantedAt: now } },
    approvalToken(approval, command, policy),
  ];
}

/**
 * The id of a granted approval's token that was never stored (the grant's append stopped between
 * its two events) and would still live now; undefined otherwise. A token missing after it would
 * have ended is spent, revoked or expired, and pruned: not lost.
 */
function unstoredToken(
  strategy: RegisteredStrategy,
  approval: ApprovalRecord,
  now: string,
): { tokenId: string; tokenExpiresAt: string } | undefined {
  const { tokenId, tokenEndsAt } = approval;
  if (approval.status !== 'granted' || tokenId === null || tokenEndsAt === null) return undefined;
  if (own(strategy.tokens, tokenId) !== undefined) return undefined;
  return millis(now, 'now') < millis(tokenEndsAt) ? { tokenId, tokenExpiresAt: tokenEndsAt } : undefined;
}

/** The single-use token a grant issues, bound to the approved action's hash. */
function approvalToken(
  approval: { approvalId: string; actionHash: string; action: { kind: string } },
  { approver, tokenId, tokenExpiresAt, now }: ApproveRequest,
  policy: StrategyPolicy,
): StrategyEvent {
  requireFuture(tokenExpiresAt, now, 'tokenExpiresAt');
  requireTokenLifetime(tokenExpiresAt, now, policy, 'tokenExpiresAt');
  return {
    type: 'TokenIssued',
    data: {
      tokenId,
      scope: { actionKinds: [approval.action.kind] },
      maxNotional: null,
      expiresAt: tokenExpiresAt,
      singleUse: true,
      boundActionHash: approval.actionHash,
      approvalId: approval.approvalId,
      issuedBy: approver,
      issuedAt: now,
    },
  };
}

function rejectRequest(state: StrategyState, command: RejectRequest): StrategyEvent[] {
  const strategy = requireRegistered(state);
  requireActor(command.actor, ['operator'], 'rejecting');
  const approval = own(strategy.approvals, command.approvalId);
  if (approval === undefined) {
    throw new NotFoundError(`no approval request ${command.approvalId}`, { code: 'GATE.APPROVAL_UNKNOWN' });
  }
  if (approval.status === 'rejected') return [];
  if (approval.status === 'granted') {
    throw new IllegalStateError(`approval ${command.approvalId} is already granted`, {
      code: 'GATE.APPROVAL_NOT_PENDING',
    });
  }
  // Lapsed, not decided: a rejection now would record a decision nobody made in time.
  if (millis(command.now, 'now') >= millis(approval.expiresAt)) {
    throw new IllegalStateError(`approval ${command.approvalId} expired at ${approval.expiresAt}`, {
      code: 'GATE.APPROVAL_EXPIRED',
    });
  }
  return [
    {
      type: 'ApprovalRejected',
      data: {
        approvalId: approval.approvalId,
        rejectedBy: command.rejectedBy,
        reason: command.reason ?? null,
        rejectedAt: command.now,
      },
    },
  ];
}

function decide(command: StrategyCommand, state: StrategyState, policy: StrategyPolicy): StrategyEvent[] {
  millis(command.now, 'now');
  switch (command.type) {
    case 'RegisterStrategy': {
      if (state.status === 'registered') {
        // Registered already, perhaps by its first check a moment ago: a capital given still counts.
        return command.capital === undefined
          ? []
          : setCapital(state, {
              type: 'SetStrategyCapital',
              capital: command.capital,
              now: command.now,
              actor: command.actor,
            });
      }
      // Not limited by maxStrategiesPerEngine, and it may set the capital: an operator's call.
      requireActor(
        command.actor,
        ['operator'],
        'registering a strategy (its checks and outcomes register it)',
      );
      if (command.capital !== undefined) requirePositive(command.capital, 'capital');
      return [strategyRegistered(command.engineId, command.strategyId, command.capital ?? null, command.now)];
    }
    case 'SetStrategyCapital':
      return setCapital(state, command);
    case 'RecordOutcome':
      return recordOutcome(state, command, policy);
    case 'OverrideMaturity':
      return overrideMaturity(state, command);
    case 'RegisterBaseline':
      return registerBaseline(state, command);
    case 'PauseStrategy':
      return pauseStrategy(state, command);
    case 'ResumeStrategy':
      return resumeStrategy(state, command);
    case 'IssueToken':
      return issueToken(state, command, policy);
    case 'RevokeToken':
      return revokeToken(state, command);
    case 'RevokeAllTokens':
      return revokeAllTokens(state, command);
    case 'ConsumeToken':
      return consumeToken(state, command);
    case 'ApproveRequest':
      return approveRequest(state, command, policy);
    case 'RejectRequest':
      return rejectRequest(state, command);
    case 'RecordGateCheck':
      return decideCheckEffects(state, command, policy).events;
    default: {
      const _exhaustive: never = command;
      throw new ValidationError('unknown strategy command', { code: 'VALIDATION.FAILED' });
    }
  }
}

/**
 * The strategy aggregate (one per engine + strategy): maturity ladder, outcome evidence, health,
 * drift, pauses, execution tokens and approvals. `ctx` is the policy in force.
 */
export const strategyDecider: Decider<StrategyState, StrategyCommand, StrategyEvent, StrategyPolicy> = {
  // 2: approvals keep when their token ends (`tokenEndsAt`). 3: approvals kept until it has ended.
  // 4: tokens keep who issued them (`issuedBy`). 5: a pending demotion keeps its `from` through later
  // level changes until the engine is told (`pendingAfter`).
  stateVersion: 5,
  decide,
  evolve: evolveStrategy,
  initialState: initialStrategyState,
};
