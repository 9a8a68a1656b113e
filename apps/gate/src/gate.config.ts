import { Type, type Static } from '@sinclair/typebox';
import { CommonConfigProperties } from '@bifrost/config';

export const GateConfig = Type.Object({
  ...CommonConfigProperties,
  /**
   * Longest a replica answers checks from state it has not proven current: past it, checks get
   * `INFRA.STATE_STALE` until the replica's event tail catches up (docs/gate.md). It is verified a
   * quarter of this apart.
   */
  GATE_MAX_STATE_LAG_MS: Type.Integer({ minimum: 200, default: 2_000 }),
});
export type GateConfig = Static<typeof GateConfig>;

export const GATE_CONFIG = 'gate:CONFIG';
