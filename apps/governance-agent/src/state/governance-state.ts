import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  APPROVERS_DIRECTORY_ID,
  approversDecider,
  governanceDecider,
  type ApproversState,
  type EnrolledGovernance,
  type GovernanceState as EngineState,
} from '@bifrost/domain-governance';
import { LiveAggregates, LiveContext, Messaging, type DomainEvent } from '@bifrost/messaging';
import type { Logger } from '@bifrost/observability';
import { SERVICE_LOGGER, ServiceInfo } from '@bifrost/service';
import { GOVERNANCE_AGENT_CONFIG, type GovernanceAgentConfig } from '../governance-agent.config';

/**
 * The agent's state in memory: every engine's governance (phase, metrics history, breakers,
 * attestations, proposals) and the approvers directory, rebuilt at start from the KV snapshot plus
 * the event tail and kept current by following `bifrost.evt.governance.>`. Command and incident
 * records are events of the engine aggregate (ADR 0009), so the history survives restarts with
 * the rest of the state.
 */
@Injectable()
export class GovernanceState implements OnModuleInit, BeforeApplicationShutdown {
  readonly engines: LiveAggregates<EngineState, DomainEvent>;
  readonly approvers: LiveAggregates<ApproversState, DomainEvent>;
  readonly context: LiveContext;
  private started?: Promise<unknown>;

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(ServiceInfo) info: ServiceInfo,
    @Inject(SERVICE_LOGGER) logger: Logger,
    @Inject(GOVERNANCE_AGENT_CONFIG) config: GovernanceAgentConfig,
  ) {
    this.engines = new LiveAggregates(messaging, 'governance', 'engine', governanceDecider as never);
    this.approvers = new LiveAggregates(messaging, 'governance', 'approvers', approversDecider as never);
    this.context = new LiveContext(
      messaging,
      'governance',
      [this.engines, this.approvers] as LiveAggregates<unknown, DomainEvent>[],
      { snapshotKey: `${info.service}.state`, snapshotEvery: config.GOVERNANCE_SNAPSHOT_EVERY, logger },
    );
  }

  /** Idempotent: Nest may run init hooks for the HTTP app and the microservice. */
  onModuleInit(): Promise<unknown> {
    this.started ??= this.context.start();
    return this.started;
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.started) await this.context.stop();
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
