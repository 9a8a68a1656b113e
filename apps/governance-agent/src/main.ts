import { runService } from '@bifrost/service';
import { GovernanceAgentConfig, governanceAgentService } from './governance-agent.service';

void runService(GovernanceAgentConfig, governanceAgentService);
