import { Type, type Static } from '@sinclair/typebox';
import { CommonConfigProperties } from '@bifrost/config';

export const HeimdallConfig = Type.Object({
  ...CommonConfigProperties,
  /**
   * Longest a replica answers evaluations from state it has not proven current: past it,
   * evaluations get `INFRA.STATE_STALE` until the replica's event tail catches up (docs/heimdall.md).
   * It is verified a quarter of this apart.
   */
  HEIMDALL_MAX_STATE_LAG_MS: Type.Integer({ minimum: 200, default: 2_000 }),
  /** Seed the four domains of seed 000 lever 3 on first start (only those without a policy). */
  HEIMDALL_SEED_POLICIES: Type.Boolean({ default: true }),
  /** Save the in-memory state to the KV snapshot after this many events (and on stop). */
  HEIMDALL_SNAPSHOT_EVERY: Type.Integer({ minimum: 1, default: 5_000 }),
});
export type HeimdallConfig = Static<typeof HeimdallConfig>;

export const HEIMDALL_CONFIG = 'heimdall:CONFIG';
