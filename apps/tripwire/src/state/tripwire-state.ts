import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { tripwireDecider, type TripwireState as PolicyState } from '@bifrost/domain-tripwire';
import { LiveAggregates, LiveContext, Messaging, type DomainEvent } from '@bifrost/messaging';
import type { Logger } from '@bifrost/observability';
import { SERVICE_LOGGER, ServiceInfo } from '@bifrost/service';
import { TRIPWIRE_CONFIG, type TripwireConfig } from '../tripwire.config';

/**
 * Every tripwire policy (`bifrost.evt.tripwire.policy.<policyId>`) with every engine's windows, in
 * memory: rebuilt at start from the KV snapshot plus the event tail and kept current by following
 * `bifrost.evt.tripwire.>`, so windows survive restarts and several instances converge.
 */
@Injectable()
export class TripwireState implements OnModuleInit, BeforeApplicationShutdown {
  readonly policies: LiveAggregates<PolicyState, DomainEvent>;
  readonly context: LiveContext;
  private started?: Promise<unknown>;

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(ServiceInfo) info: ServiceInfo,
    @Inject(SERVICE_LOGGER) logger: Logger,
    @Inject(TRIPWIRE_CONFIG) config: TripwireConfig,
  ) {
    this.policies = new LiveAggregates(messaging, 'tripwire', 'policy', tripwireDecider as never);
    this.context = new LiveContext(
      messaging,
      'tripwire',
      [this.policies] as LiveAggregates<unknown, DomainEvent>[],
      { snapshotKey: `${info.service}.state`, snapshotEvery: config.TRIPWIRE_SNAPSHOT_EVERY, logger },
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

  subjectOf(policyId: string): string {
    return this.policies.subjectOf(policyId);
  }

  policy(policyId: string): PolicyState {
    return this.policies.get(policyId).state;
  }

  /** Every defined policy id, sorted. */
  policyIds(): string[] {
    return [...this.policies.ids()].filter((id) => this.policy(id).status === 'defined').sort();
  }
}
