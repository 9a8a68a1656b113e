import { KeyedMutex } from '@bifrost/messaging';
import type { ServiceDefinition } from '@bifrost/service';
import { GateCheckRpcHandler } from './check/gate-check.rpc-handler';
import { GateCheckService } from './check/gate-check.service';
import { PolicyRevisions } from './check/policy-revisions';
import { ControlCommandsRpcHandler } from './commands/control-commands.rpc-handler';
import { GateCommands } from './commands/gate-commands.service';
import { StrategyCommandsRpcHandler } from './commands/strategy-commands.rpc-handler';
import { OutcomesConsumer } from './ingest/outcomes.consumer';
import { ReactionsConsumer } from './ingest/reactions.consumer';
import { GateMetrics } from './metrics/gate.metrics';
import { GATE_CONFIG, GATE_POLICIES, gatePoliciesOf, type GateConfig } from './gate.config';
import { GateState } from './state/gate-state';

export { GateConfig } from './gate.config';

/** The gate: Bifrost's single pre-action decision point (DESIGN §3). */
export const gateService: ServiceDefinition<GateConfig> = {
  name: 'gate',
  version: '0.1.0',
  app: (config) => ({
    controllers: [
      GateCheckRpcHandler,
      ControlCommandsRpcHandler,
      StrategyCommandsRpcHandler,
      OutcomesConsumer,
      ReactionsConsumer,
    ],
    providers: [
      { provide: GATE_CONFIG, useValue: config },
      { provide: GATE_POLICIES, useValue: gatePoliciesOf(config) },
      GateState,
      KeyedMutex,
      GateMetrics,
      PolicyRevisions,
      GateCheckService,
      GateCommands,
    ],
  }),
};
