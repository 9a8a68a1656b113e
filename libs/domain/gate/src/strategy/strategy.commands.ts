import type {
  Actor,
  GateAction,
  GateCheckRequest,
  MaturityLevel,
  Money,
  TokenScope,
  VerdictAction,
} from '@bifrost/contracts';

/** Every command carries the time it is handled (`now`, RFC 3339 UTC) and who asks. */
interface CommandBase {
  readonly now: string;
  readonly actor: Actor;
}

/** Engines and strategies are registered at L0; the gate does it implicitly on a first check. */
export interface RegisterStrategy extends CommandBase {
  readonly type: 'RegisterStrategy';
  readonly engineId: string;
  readonly strategyId: string;
  readonly capital?: Money;
}

export interface SetStrategyCapital extends CommandBase {
  readonly type: 'SetStrategyCapital';
  readonly capital: Money;
}

/** Registers the strategy first when it is unknown, hence the ids. */
export interface RecordOutcome extends CommandBase {
  readonly type: 'RecordOutcome';
  readonly engineId: string;
  readonly strategyId: string;
  readonly outcomeId: string;
  /** Minor units; negative = loss. */
  readonly pnl: Money;
  /**
   * Registered strategies of the engine, from the gate's state: an outcome of an unknown strategy
   * registers it only below `maxStrategiesPerEngine`, as a check does. 0 when omitted.
   */
  readonly engineStrategies?: number;
}

export interface OverrideMaturity extends CommandBase {
  readonly type: 'OverrideMaturity';
  readonly level: MaturityLevel;
  readonly reason: string;
}

export interface RegisterBaseline extends CommandBase {
  readonly type: 'RegisterBaseline';
  readonly winRate: number;
  readonly profitFactor: number;
  readonly avgPnl?: Money;
  readonly source?: string;
  /** Refuse a baseline below the current one (see `RegisterBaselineCommand.mayNotLoosen`). */
  readonly mayNotLoosen?: boolean;
}

export interface PauseStrategy extends CommandBase {
  readonly type: 'PauseStrategy';
  readonly reason: string;
  readonly cooldownUntil?: string;
}

export interface ResumeStrategy extends CommandBase {
  readonly type: 'ResumeStrategy';
  readonly reason?: string;
}

export interface IssueToken extends CommandBase {
  readonly type: 'IssueToken';
  readonly tokenId: string;
  readonly scope: TokenScope;
  readonly maxNotional?: Money;
  readonly expiresAt: string;
  readonly singleUse: boolean;
  readonly boundActionHash?: string;
}

export interface RevokeToken extends CommandBase {
  readonly type: 'RevokeToken';
  readonly tokenId: string;
  readonly reason?: string;
}

export interface RevokeAllTokens extends CommandBase {
  readonly type: 'RevokeAllTokens';
  readonly reason?: string;
}

export interface ConsumeToken extends CommandBase {
  readonly type: 'ConsumeToken';
  readonly tokenId: string;
  readonly actionHash: string;
  /** The action the token is used for: its kind and notional are checked against the token's scope. */
  readonly action: Pick<GateAction, 'kind' | 'notional'>;
}

export interface ApproveRequest extends CommandBase {
  readonly type: 'ApproveRequest';
  readonly approvalId: string;
  readonly approver: string;
  readonly tokenId: string;
  readonly tokenExpiresAt: string;
}

export interface RejectRequest extends CommandBase {
  readonly type: 'RejectRequest';
  readonly approvalId: string;
  readonly rejectedBy: string;
  readonly reason?: string;
}

/**
 * What a gate check leaves behind on the strategy (registration, token use, approval request,
 * demotion acknowledgement), given the composed verdict: see `decideCheckEffects`.
 */
export interface RecordGateCheck extends CommandBase {
  readonly type: 'RecordGateCheck';
  readonly request: GateCheckRequest;
  readonly actionHash: string;
  /** The action the engine is answered (see `CheckEffectsInput.verdict`). */
  readonly verdict: VerdictAction;
  /** In `observe` mode, what enforce mode would have answered (see `CheckEffectsInput.wouldBe`). */
  readonly wouldBe?: VerdictAction;
  /** Id for a new approval request, used only when the verdict is REQUIRE_APPROVAL. */
  readonly approvalId: string;
  /** Registered strategies of the engine (see `CheckEffectsInput.engineStrategies`). */
  readonly engineStrategies?: number;
}

export type StrategyCommand =
  | RegisterStrategy
  | SetStrategyCapital
  | RecordOutcome
  | OverrideMaturity
  | RegisterBaseline
  | PauseStrategy
  | ResumeStrategy
  | IssueToken
  | RevokeToken
  | RevokeAllTokens
  | ConsumeToken
  | ApproveRequest
  | RejectRequest
  | RecordGateCheck;
