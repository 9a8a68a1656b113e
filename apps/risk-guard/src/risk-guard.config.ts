import { Type, type Static } from '@sinclair/typebox';
import { CommonConfigProperties, ConfigError } from '@bifrost/config';

export const RiskGuardConfig = Type.Object({
  ...CommonConfigProperties,
  /** IANA zone whose midnight ends the ledger day. */
  RISK_TIME_ZONE: Type.String({ minLength: 1, default: 'UTC' }),
  RISK_DEFAULT_TTL_MS: Type.Integer({ minimum: 1, default: 60_000 }),
  RISK_MAX_TTL_MS: Type.Integer({ minimum: 1, default: 86_400_000 }),
  /** How often due reservations are expired when no command arrives. */
  RISK_EXPIRY_SWEEP_MS: Type.Integer({ minimum: 10, default: 1_000 }),
  /** Leadership lease; the leader renews it every third of this, a standby tries as often. */
  RISK_LEASE_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  RISK_SNAPSHOT_INTERVAL_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  /** Most commands decided into one ledger append. */
  RISK_MAX_BATCH: Type.Integer({ minimum: 1, default: 256 }),
  RISK_SEED_POLICIES: Type.Boolean({ default: true }),
});
export type RiskGuardConfig = Static<typeof RiskGuardConfig>;

/** What the schema cannot say: the default reservation TTL must be one a reserve may have. */
export function assertRiskGuardConfig(
  config: Pick<RiskGuardConfig, 'RISK_DEFAULT_TTL_MS' | 'RISK_MAX_TTL_MS'>,
): void {
  if (config.RISK_DEFAULT_TTL_MS > config.RISK_MAX_TTL_MS) {
    throw new ConfigError([
      {
        variable: 'RISK_DEFAULT_TTL_MS',
        message: `${config.RISK_DEFAULT_TTL_MS} is above RISK_MAX_TTL_MS (${config.RISK_MAX_TTL_MS}): every reserve without a ttlMs would be refused`,
      },
    ]);
  }
}

export const RISK_GUARD_CONFIG = 'risk-guard:CONFIG';
