import type { ServiceDefinition } from '@bifrost/service';
import { RiskDesk } from './ledger/risk-desk';
import { RISK_GUARD_CONFIG, type RiskGuardConfig } from './risk-guard.config';
import { RiskMetrics } from './risk.metrics';
import { RiskRpcHandler } from './rpc/risk.rpc-handler';
import { TripwireConsumer } from './tripwire/tripwire.consumer';

export { RiskGuardConfig } from './risk-guard.config';

/** risk-guard: daily caps with reserve-before-execute and dual control (GLOBAL + engine). */
export const riskGuardService: ServiceDefinition<RiskGuardConfig> = {
  name: 'risk-guard',
  version: '0.1.0',
  app: (config) => ({
    controllers: [RiskRpcHandler, TripwireConsumer],
    providers: [{ provide: RISK_GUARD_CONFIG, useValue: config }, RiskMetrics, RiskDesk],
  }),
};
