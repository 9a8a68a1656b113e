import { KeyedMutex } from '@bifrost/messaging';
import type { ServiceDefinition } from '@bifrost/service';
import { HeimdallCommands } from './commands/heimdall-commands.service';
import { HeimdallEvaluator } from './evaluate/heimdall-evaluator.service';
import { HEIMDALL_CONFIG, type HeimdallConfig } from './heimdall.config';
import { SandboxTrialsConsumer } from './ingest/sandbox-trials.consumer';
import { HeimdallMetrics } from './metrics/heimdall.metrics';
import { HeimdallRpcHandler } from './rpc/heimdall.rpc-handler';
import { HeimdallState } from './state/heimdall-state';

export { HeimdallConfig } from './heimdall.config';

/** Heimdall: AI recommendations reach production only through sandbox gates (seed 000 lever 3). */
export const heimdallService: ServiceDefinition<HeimdallConfig> = {
  name: 'heimdall',
  version: '0.1.0',
  app: (config) => ({
    controllers: [HeimdallRpcHandler, SandboxTrialsConsumer],
    providers: [
      { provide: HEIMDALL_CONFIG, useValue: config },
      HeimdallState,
      KeyedMutex,
      HeimdallMetrics,
      HeimdallCommands,
      HeimdallEvaluator,
    ],
  }),
};
