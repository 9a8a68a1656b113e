export {
  OUTCOME_HISTORY_LIMIT,
  SETTLED_RETENTION_MS,
  STRATEGY_AGGREGATE,
  initialStrategyState,
  strategyAggregateId,
  type ApprovalRecord,
  type Baseline,
  type LevelStats,
  type OutcomeEntry,
  type PendingDemotion,
  type RegisteredStrategy,
  type StrategyPause,
  type StrategyState,
  type TokenRecord,
} from './strategy.state';
export {
  DEFAULT_STRATEGY_POLICY,
  strategyPolicy,
  type StrategyPolicy,
  type StrategyPolicyOverrides,
} from './strategy.policy';
export type { StrategyEvent, StrategyEventOf, StrategyEventType } from './strategy.events';
export type * from './strategy.commands';
export {
  MATURITY_LADDER,
  demotionFor,
  maturityIndex,
  nextMaturityLevel,
  promotionFor,
  type Demotion,
  type LevelTraits,
  type Promotion,
} from './strategy.maturity';
export { healthMultiplier, healthScore } from './strategy.health';
export { assessDrift, type DriftAssessment, type DriftMetric, type LiveMetrics } from './strategy.drift';
export { approvalStatus, assessToken, tokenIssuance, type TokenAssessment } from './strategy.tokens';
export { activeStrategyPause, outcomeWindow, registeredView } from './strategy.view';
export {
  decideCheckEffects,
  strategyChecks,
  type CheckEffects,
  type CheckEffectsInput,
} from './strategy.checks';
export { strategyDecider } from './strategy.decider';
