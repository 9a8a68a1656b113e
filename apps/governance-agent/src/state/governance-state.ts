import { Inject, Injectable } from '@nestjs/common';
import {
  APPROVERS_DIRECTORY_ID,
  approversDecider,
  governanceDecider,
  type ApproversState,
  type EnrolledGovernance,
  type GovernanceState as EngineState,
} from '@bifrost/domain-governance';
import { LiveState, Messaging, type LiveAggregates } from '@bifrost/messaging';
import type { Logger } from '@bifrost/observability';
import { SERVICE_LOGGER } from '@bifrost/service';
import { GOVERNANCE_AGENT_CONFIG, type GovernanceAgentConfig } from '../governance-agent.config';

/**
 * The agent's state in memory: every engine's governance (phase, metrics history, breakers,
 * attestations, proposals) and the approvers directory, rebuilt at start from the KV snapshot plus
 * the event tail and kept current by following `bifrost.evt.governance.>`. Command and incident
 * records are events of the engine aggregate (ADR 0009), so the history survives restarts with
 * the rest of the state.
 */
@Injectable()
export class GovernanceState extends LiveState {
  readonly engines: LiveAggregates<EngineState>;
  readonly approvers: LiveAggregates<ApproversState>;

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(SERVICE_LOGGER) logger: Logger,
    @Inject(GOVERNANCE_AGENT_CONFIG) config: GovernanceAgentConfig,
  ) {
    super(messaging, 'governance', { snapshotEvery: config.GOVERNANCE_SNAPSHOT_EVERY, logger });
    this.engines = this.aggregate('engine', governanceDecider);
    this.approvers = this.aggregate('approvers', approversDecider);
  }

  engine(engineId: string): EngineState {
    return this.engines.get(engineId).state;
  }

  enrolled(): EnrolledGovernance[] {
    return [...this.engines.ids()]
      .map((id) => this.engine(id))
      .filter((s): s is EnrolledGovernance => s.status === 'enrolled');
  }

  approverRoles(): ApproversState['roles'] {
    return this.approvers.get(APPROVERS_DIRECTORY_ID).state.roles;
  }
}
