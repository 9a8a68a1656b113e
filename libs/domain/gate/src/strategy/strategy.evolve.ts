import type { MaturityLevel } from '@bifrost/contracts';

import { own } from '../own';
import type { StrategyEvent } from './strategy.events';
import { maturityIndex } from './strategy.maturity';
import {
  EMPTY_LEVEL_STATS,
  OUTCOME_HISTORY_LIMIT,
  SETTLED_RETENTION_MS,
  type ApprovalRecord,
  type LevelStats,
  type PendingDemotion,
  type RegisteredStrategy,
  type StrategyState,
} from './strategy.state';

function afterOutcome(stats: LevelStats, pnl: number): LevelStats {
  const cumulative = stats.pnl + pnl;
  return {
    outcomes: stats.outcomes + 1,
    wins: stats.wins + (pnl > 0 ? 1 : 0),
    losses: stats.losses + (pnl < 0 ? 1 : 0),
    grossWin: stats.grossWin + Math.max(0, pnl),
    grossLoss: stats.grossLoss + Math.max(0, -pnl),
    pnl: cumulative,
    peakPnl: Math.max(stats.peakPnl, cumulative),
    lossStreak: pnl < 0 ? stats.lossStreak + 1 : 0,
  };
}

/**
 * Keeps state bounded: tokens and approvals are dropped once they have ended (`endOf`: expired, by
 * default) for the retention period at the time of a newer one. Driven by event times only, so
 * replay is exact.
 */
function withoutLongEnded<T extends { readonly expiresAt: string }>(
  records: Readonly<Record<string, T>>,
  at: string,
  endOf: (record: T) => string = (record) => record.expiresAt,
): Record<string, T> {
  const horizon = Date.parse(at) - SETTLED_RETENTION_MS;
  return Object.fromEntries(
    Object.entries(records).filter(([, record]) => !(Date.parse(endOf(record)) <= horizon)),
  );
}

/**
 * An approval ends when its request expires or, granted, when its token ends, whichever is later:
 * a token may live longer than the retention (`maxTokenTtlMs` over a day), and its approval is
 * still asked about (`approval`) and still completes a grant stored without its token.
 */
const approvalEnd = (approval: ApprovalRecord): string =>
  approval.tokenEndsAt !== null && approval.tokenEndsAt > approval.expiresAt
    ? approval.tokenEndsAt
    : approval.expiresAt;

/**
 * The demotion the engine is still to be told of once the level has changed to `to`: from the level
 * it last knew (the `from` of a demotion still pending, else the level left) down to `to`, with the
 * latest lowering's reason and time (`lowering`; a promotion keeps the pending one's). None once `to`
 * is back at or above the level the engine knew. A second demotion before a check answered DEMOTE
 * (under a kill switch or a pause) thus extends the pending one rather than replace its `from`.
 */
function pendingAfter(
  state: RegisteredStrategy,
  to: MaturityLevel,
  lowering: Pick<PendingDemotion, 'reason' | 'demotedAt'> | null,
): PendingDemotion | null {
  const pending = state.pendingDemotion;
  const known = pending?.from ?? state.level;
  // Null only for a promotion with nothing pending, which is never below the level left.
  const cause = lowering ?? pending;
  if (cause === null || maturityIndex(to) >= maturityIndex(known)) return null;
  return { from: known, to, reason: cause.reason, demotedAt: cause.demotedAt };
}

function evolveRegistered(state: RegisteredStrategy, event: StrategyEvent): RegisteredStrategy {
  switch (event.type) {
    case 'StrategyRegistered':
      return state;
    case 'StrategyCapitalSet':
      return { ...state, capital: event.data.capital, currency: event.data.capital.currency };
    case 'OutcomeRecorded': {
      const { outcomeId, pnl } = event.data;
      return {
        ...state,
        currency: state.currency ?? pnl.currency,
        stats: afterOutcome(state.stats, pnl.amount),
        recent: [...state.recent, { outcomeId, pnl: pnl.amount }].slice(-OUTCOME_HISTORY_LIMIT),
      };
    }
    case 'MaturityPromoted': {
      const { to } = event.data;
      return {
        ...state,
        level: to,
        stats: EMPTY_LEVEL_STATS,
        pendingDemotion: pendingAfter(state, to, null),
      };
    }
    case 'MaturityDemoted': {
      const { to, reason, demotedAt } = event.data;
      return {
        ...state,
        level: to,
        stats: EMPTY_LEVEL_STATS,
        pendingDemotion: pendingAfter(state, to, { reason, demotedAt }),
      };
    }
    case 'MaturityOverridden': {
      const { to, overriddenAt } = event.data;
      return {
        ...state,
        level: to,
        stats: EMPTY_LEVEL_STATS,
        pendingDemotion: pendingAfter(state, to, { reason: 'override', demotedAt: overriddenAt }),
      };
    }
    case 'DemotionAcknowledged':
      return { ...state, pendingDemotion: null };
    case 'BaselineRegistered': {
      const { winRate, profitFactor, avgPnl, registeredAt } = event.data;
      return {
        ...state,
        currency: state.currency ?? avgPnl?.currency ?? null,
        baseline: { winRate, profitFactor, avgPnl, registeredAt },
      };
    }
    case 'StrategyPaused': {
      const { reason, cooldownUntil, pausedBy, pausedAt } = event.data;
      return { ...state, pause: { reason, cooldownUntil, pausedBy, pausedAt } };
    }
    case 'StrategyResumed':
      return { ...state, pause: null };
    case 'TokenIssued': {
      const d = event.data;
      return {
        ...state,
        tokens: {
          ...withoutLongEnded(state.tokens, d.issuedAt),
          [d.tokenId]: {
            tokenId: d.tokenId,
            actionKinds: d.scope.actionKinds,
            maxNotional: d.maxNotional,
            expiresAt: d.expiresAt,
            singleUse: d.singleUse,
            boundActionHash: d.boundActionHash,
            approvalId: d.approvalId,
            status: 'active',
            uses: 0,
            issuedBy: d.issuedBy,
            issuedAt: d.issuedAt,
          },
        },
      };
    }
    case 'TokenRevoked':
    case 'TokensRevoked': {
      const ids = event.type === 'TokenRevoked' ? [event.data.tokenId] : event.data.tokenIds;
      const tokens = { ...state.tokens };
      let approvals = state.approvals;
      for (const id of ids) {
        const token = own(tokens, id);
        if (token !== undefined) {
          tokens[id] = { ...token, status: 'revoked' };
          continue;
        }
        // The token of a grant whose append stopped before it: revoked before it was stored.
        const grant = Object.values(approvals).find((a) => a.tokenId === id);
        if (grant !== undefined) {
          const revokedAt = event.data.revokedAt;
          approvals = { ...approvals, [grant.approvalId]: { ...grant, tokenEndsAt: revokedAt } };
        }
      }
      return { ...state, tokens, approvals };
    }
    case 'TokenConsumed': {
      const token = own(state.tokens, event.data.tokenId);
      if (token === undefined) return state;
      const used = {
        ...token,
        uses: token.uses + 1,
        status: token.singleUse ? 'consumed' : token.status,
      } as const;
      return { ...state, tokens: { ...state.tokens, [token.tokenId]: used } };
    }
    case 'TokenRefused':
      return state;
    case 'ApprovalRequested': {
      const d = event.data;
      return {
        ...state,
        approvals: {
          ...withoutLongEnded(state.approvals, d.requestedAt, approvalEnd),
          [d.approvalId]: {
            approvalId: d.approvalId,
            actionHash: d.actionHash,
            action: d.action,
            requestedBy: d.requestedBy,
            expiresAt: d.expiresAt,
            requestedAt: d.requestedAt,
            status: 'pending',
            decidedBy: null,
            tokenId: null,
            tokenEndsAt: null,
          },
        },
      };
    }
    case 'ApprovalGranted':
    case 'ApprovalRejected': {
      const approval = own(state.approvals, event.data.approvalId);
      if (approval === undefined) return state;
      const decided =
        event.type === 'ApprovalGranted'
          ? {
              ...approval,
              status: 'granted' as const,
              decidedBy: event.data.approver,
              tokenId: event.data.tokenId,
              tokenEndsAt: event.data.tokenExpiresAt,
            }
          : { ...approval, status: 'rejected' as const, decidedBy: event.data.rejectedBy };
      return { ...state, approvals: { ...state.approvals, [approval.approvalId]: decided } };
    }
    default: {
      // Unknown types (a newer producer) leave state alone rather than break the replay.
      const _exhaustive: never = event;
      return state;
    }
  }
}

/** Total: applies any event to any state without throwing; events before registration change nothing. */
export function evolveStrategy(state: StrategyState, event: StrategyEvent): StrategyState {
  switch (state.status) {
    case 'unregistered': {
      if (event.type !== 'StrategyRegistered') return state;
      const { engineId, strategyId, capital, registeredAt } = event.data;
      return {
        status: 'registered',
        engineId,
        strategyId,
        registeredAt,
        level: 'L0',
        currency: capital?.currency ?? null,
        capital,
        stats: EMPTY_LEVEL_STATS,
        recent: [],
        baseline: null,
        pause: null,
        pendingDemotion: null,
        tokens: {},
        approvals: {},
      };
    }
    case 'registered':
      return evolveRegistered(state, event);
    default: {
      const _exhaustive: never = state;
      return state;
    }
  }
}
