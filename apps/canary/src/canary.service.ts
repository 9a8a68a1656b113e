import type { ServiceDefinition } from '@bifrost/service';
import { CANARY_CONFIG, type CanaryConfig } from './canary.config';
import { CanaryCommands } from './commands/canary-commands.service';
import { HeartbeatMonitor } from './heartbeats/heartbeat-monitor.service';
import { HeartbeatsConsumer } from './heartbeats/heartbeats.consumer';
import { CanaryMetrics } from './metrics/canary.metrics';
import { ProbeScheduler } from './probes/probe-scheduler.service';
import { CanaryRpcHandler } from './rpc/canary.rpc-handler';
import { CanaryState } from './state/canary-state';

export { CanaryConfig } from './canary.config';

/** canary: infrastructure probes (kill switch / pause / alert) and the engines' dead-man switch. */
export const canaryService: ServiceDefinition<CanaryConfig> = {
  name: 'canary',
  version: '0.1.0',
  app: (config) => ({
    controllers: [CanaryRpcHandler, HeartbeatsConsumer],
    providers: [
      { provide: CANARY_CONFIG, useValue: config },
      CanaryState,
      CanaryMetrics,
      CanaryCommands,
      ProbeScheduler,
      HeartbeatMonitor,
    ],
  }),
};
