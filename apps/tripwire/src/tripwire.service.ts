import { KeyedMutex } from '@bifrost/messaging';
import type { ServiceDefinition } from '@bifrost/service';
import { TripwireCommands } from './commands/tripwire-commands.service';
import { KpiConsumer } from './ingest/kpi.consumer';
import { TripwireMetrics } from './metrics/tripwire.metrics';
import { TripwireRpcHandler } from './rpc/tripwire.rpc-handler';
import { TripwireState } from './state/tripwire-state';
import { TRIPWIRE_CONFIG, type TripwireConfig } from './tripwire.config';

export { TripwireConfig } from './tripwire.config';

/** tripwire: KPI regression detection; trips THROTTLE (risk-guard) or KILL_SWITCH (gate). */
export const tripwireService: ServiceDefinition<TripwireConfig> = {
  name: 'tripwire',
  version: '0.1.0',
  app: (config) => ({
    controllers: [TripwireRpcHandler, KpiConsumer],
    providers: [
      { provide: TRIPWIRE_CONFIG, useValue: config },
      TripwireState,
      TripwireMetrics,
      TripwireCommands,
      KeyedMutex,
    ],
  }),
};
