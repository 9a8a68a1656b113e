import { Type, type Static } from '@sinclair/typebox';
import { CommonConfigProperties } from '@bifrost/config';
import type { ServiceDefinition } from '@bifrost/service';

export const GateConfig = Type.Object({ ...CommonConfigProperties });
export type GateConfig = Static<typeof GateConfig>;

/** The gate: Bifrost's single pre-action decision point (DESIGN §3). */
export const gateService: ServiceDefinition<GateConfig> = {
  name: 'gate',
  version: '0.1.0',
  app: () => ({}),
};
