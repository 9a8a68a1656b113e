import { Type, type Static } from '@sinclair/typebox';
import { CommonConfigProperties } from '@bifrost/config';

export const HeimdallConfig = Type.Object({
  ...CommonConfigProperties,
  /** Seed the four domains of seed 000 lever 3 on first start (only those without a policy). */
  HEIMDALL_SEED_POLICIES: Type.Boolean({ default: true }),
  /** Save the in-memory state to the KV snapshot after this many events (and on stop). */
  HEIMDALL_SNAPSHOT_EVERY: Type.Integer({ minimum: 1, default: 5_000 }),
});
export type HeimdallConfig = Static<typeof HeimdallConfig>;

export const HEIMDALL_CONFIG = 'heimdall:CONFIG';
