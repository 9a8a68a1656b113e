import type { GateAction, MaturityLevel, Money } from '@bifrost/contracts';

/**
 * Outcomes kept in state (newest last): the rolling window of health and drift is their tail, and
 * outcome ids are deduplicated against them. A constant, so state never depends on policy.
 */
export const OUTCOME_HISTORY_LIMIT = 250;

/** Tokens and approvals are dropped from state this long after they expired. */
export const SETTLED_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Evidence gathered since the strategy entered its current level. */
export interface LevelStats {
  readonly outcomes: number;
  readonly wins: number;
  readonly losses: number;
  /** Minor units. */
  readonly grossWin: number;
  /** Minor units, positive. */
  readonly grossLoss: number;
  /** Cumulative pnl since entering the level. */
  readonly pnl: number;
  /** Highest `pnl` since entering the level (≥ 0: entering is the first peak). */
  readonly peakPnl: number;
  readonly lossStreak: number;
}

export interface OutcomeEntry {
  readonly outcomeId: string;
  readonly pnl: number;
}

export interface Baseline {
  readonly winRate: number;
  readonly profitFactor: number;
  readonly avgPnl: Money | null;
  readonly registeredAt: string;
}

export interface StrategyPause {
  readonly reason: string;
  readonly cooldownUntil: string | null;
  readonly pausedBy: string;
  readonly pausedAt: string;
}

/**
 * A lowering of the level the engine has not been told of (no check answered DEMOTE since). Several
 * before it is told make one: `from` the level it last knew, `to` the current level, and the reason
 * and time of the latest lowering.
 */
export interface PendingDemotion {
  readonly from: MaturityLevel;
  readonly to: MaturityLevel;
  readonly reason: 'drawdown' | 'loss-streak' | 'override';
  readonly demotedAt: string;
}

export interface TokenRecord {
  readonly tokenId: string;
  readonly actionKinds: readonly string[];
  readonly maxNotional: Money | null;
  readonly expiresAt: string;
  readonly singleUse: boolean;
  readonly boundActionHash: string | null;
  readonly approvalId: string | null;
  readonly status: 'active' | 'consumed' | 'revoked';
  readonly uses: number;
  /** Who issued it (an approval's token: its approver), so a repeated issue is answered as it was. */
  readonly issuedBy: string;
  readonly issuedAt: string;
}

export interface ApprovalRecord {
  readonly approvalId: string;
  readonly actionHash: string;
  readonly action: GateAction;
  readonly requestedBy: string;
  readonly expiresAt: string;
  readonly requestedAt: string;
  readonly status: 'pending' | 'granted' | 'rejected';
  readonly decidedBy: string | null;
  readonly tokenId: string | null;
  /**
   * When the grant's token ends: its expiry, or its revocation while it was not stored. Until then a
   * token of the grant missing from `tokens` is a lost append (pruning keeps tokens a day past
   * their expiry); after, it is spent, revoked or expired, never to be issued again.
   */
  readonly tokenEndsAt: string | null;
}

export interface RegisteredStrategy {
  readonly status: 'registered';
  readonly engineId: string;
  readonly strategyId: string;
  readonly registeredAt: string;
  readonly level: MaturityLevel;
  /** Set by the capital or the first outcome; every amount of the strategy is in it. */
  readonly currency: string | null;
  readonly capital: Money | null;
  readonly stats: LevelStats;
  readonly recent: readonly OutcomeEntry[];
  readonly baseline: Baseline | null;
  readonly pause: StrategyPause | null;
  readonly pendingDemotion: PendingDemotion | null;
  readonly tokens: Readonly<Record<string, TokenRecord>>;
  readonly approvals: Readonly<Record<string, ApprovalRecord>>;
}

/** Plain JSON (it is snapshotted); an unknown strategy is treated as L0 everywhere. */
export type StrategyState = { readonly status: 'unregistered' } | RegisteredStrategy;

export const EMPTY_LEVEL_STATS: LevelStats = {
  outcomes: 0,
  wins: 0,
  losses: 0,
  grossWin: 0,
  grossLoss: 0,
  pnl: 0,
  peakPnl: 0,
  lossStreak: 0,
};

export function initialStrategyState(): StrategyState {
  return { status: 'unregistered' };
}

/** The aggregate id in `bifrost.evt.gate.strategy.<engineId>:<strategyId>`. */
export function strategyAggregateId(engineId: string, strategyId: string): string {
  return `${engineId}:${strategyId}`;
}

/** Context and aggregate type for `Naming.eventSubject`. */
export const STRATEGY_AGGREGATE = { context: 'gate', aggregateType: 'strategy' } as const;
