import { Type, type Static } from '@sinclair/typebox';
import { CommonConfigProperties } from '@bifrost/config';

export const GovernanceAgentConfig = Type.Object({
  ...CommonConfigProperties,
  /** How often every engine's breaker rules are evaluated (seed: CIRCUIT_BREAKER_CHECK_INTERVAL=60000). */
  GOVERNANCE_BREAKER_CHECK_INTERVAL_MS: Type.Integer({ minimum: 50, default: 60_000 }),
  /** When the weekly cycle runs, UTC: `<DAY> <HH:MM>` (seed: Friday end of day), or `off`. */
  GOVERNANCE_CYCLE_SCHEDULE: Type.String({ minLength: 1, default: 'FRI 17:00' }),
  /** Days a proposal waits for its approvals before it expires. */
  GOVERNANCE_PROPOSAL_TTL_DAYS: Type.Integer({ minimum: 1, maximum: 365, default: 14 }),
  GOVERNANCE_SNAPSHOT_EVERY: Type.Integer({ minimum: 1, default: 5_000 }),
});
export type GovernanceAgentConfig = Static<typeof GovernanceAgentConfig>;

export const GOVERNANCE_AGENT_CONFIG = 'governance-agent:CONFIG';
