import { Type, type Static } from '@sinclair/typebox';
import { CommonConfigProperties } from '@bifrost/config';

export const TripwireConfig = Type.Object({
  ...CommonConfigProperties,
  /** Seed the four policies of seed 000 lever 4 on first start (only those not defined yet). */
  TRIPWIRE_SEED_POLICIES: Type.Boolean({ default: true }),
  /** Save the in-memory state to the KV snapshot after this many events (and on stop). */
  TRIPWIRE_SNAPSHOT_EVERY: Type.Integer({ minimum: 1, default: 5_000 }),
});
export type TripwireConfig = Static<typeof TripwireConfig>;

export const TRIPWIRE_CONFIG = 'tripwire:CONFIG';
