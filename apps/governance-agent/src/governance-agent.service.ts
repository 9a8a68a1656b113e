import { KeyedMutex } from '@bifrost/messaging';
import type { ServiceDefinition } from '@bifrost/service';
import { GovernanceCommands } from './commands/governance-commands.service';
import { GOVERNANCE_AGENT_CONFIG, type GovernanceAgentConfig } from './governance-agent.config';
import { GovernanceMetrics } from './governance.metrics';
import { RecordsConsumer } from './ingest/records.consumer';
import { GovernanceRpcHandler } from './rpc/governance.rpc-handler';
import { GovernanceCycles } from './schedule/governance-cycles.service';
import { GovernanceState } from './state/governance-state';

export { GovernanceAgentConfig } from './governance-agent.config';

/**
 * governance-agent: autonomy phases per engine (L3 → L5), circuit breakers over command and
 * incident records, the weekly governance cycle and expansion proposals with approvals.
 */
export const governanceAgentService: ServiceDefinition<GovernanceAgentConfig> = {
  name: 'governance-agent',
  version: '0.1.0',
  app: (config) => ({
    controllers: [GovernanceRpcHandler, RecordsConsumer],
    providers: [
      { provide: GOVERNANCE_AGENT_CONFIG, useValue: config },
      GovernanceState,
      KeyedMutex,
      GovernanceMetrics,
      GovernanceCommands,
      GovernanceCycles,
    ],
  }),
};
