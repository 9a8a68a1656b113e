import type {
  ApprovalGranted,
  ApprovalRejected,
  ApprovalRequested,
  BaselineRegistered,
  DataOf,
  DemotionAcknowledged,
  MaturityDemoted,
  MaturityOverridden,
  MaturityPromoted,
  OutcomeRecorded,
  StrategyCapitalSet,
  StrategyPaused,
  StrategyRegistered,
  StrategyResumed,
  TokenConsumed,
  TokenIssued,
  TokenRefused,
  TokenRevoked,
  TokensRevoked,
} from '@bifrost/contracts';

type EventOf<Type extends string, Definition> = { readonly type: Type; readonly data: DataOf<Definition> };

/** Domain events of the strategy aggregate; on the wire their type is `gate.<type>` (schemas in contracts). */
export type StrategyEvent =
  | EventOf<'StrategyRegistered', typeof StrategyRegistered>
  | EventOf<'StrategyCapitalSet', typeof StrategyCapitalSet>
  | EventOf<'OutcomeRecorded', typeof OutcomeRecorded>
  | EventOf<'MaturityPromoted', typeof MaturityPromoted>
  | EventOf<'MaturityDemoted', typeof MaturityDemoted>
  | EventOf<'MaturityOverridden', typeof MaturityOverridden>
  | EventOf<'DemotionAcknowledged', typeof DemotionAcknowledged>
  | EventOf<'BaselineRegistered', typeof BaselineRegistered>
  | EventOf<'StrategyPaused', typeof StrategyPaused>
  | EventOf<'StrategyResumed', typeof StrategyResumed>
  | EventOf<'TokenIssued', typeof TokenIssued>
  | EventOf<'TokenRevoked', typeof TokenRevoked>
  | EventOf<'TokensRevoked', typeof TokensRevoked>
  | EventOf<'TokenConsumed', typeof TokenConsumed>
  | EventOf<'TokenRefused', typeof TokenRefused>
  | EventOf<'ApprovalRequested', typeof ApprovalRequested>
  | EventOf<'ApprovalGranted', typeof ApprovalGranted>
  | EventOf<'ApprovalRejected', typeof ApprovalRejected>;

export type StrategyEventType = StrategyEvent['type'];
export type StrategyEventOf<T extends StrategyEventType> = Extract<StrategyEvent, { type: T }>;
