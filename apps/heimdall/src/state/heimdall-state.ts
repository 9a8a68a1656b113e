import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { heimdallDecider, type HeimdallDomainState } from '@bifrost/domain-heimdall';
import { LiveAggregates, LiveContext, Messaging, type DomainEvent } from '@bifrost/messaging';
import type { Logger } from '@bifrost/observability';
import { SERVICE_LOGGER, ServiceInfo } from '@bifrost/service';
import { HEIMDALL_CONFIG, type HeimdallConfig } from '../heimdall.config';

/**
 * Every recommendation domain (`bifrost.evt.heimdall.domain.<domain>`: policy and scorecard) in
 * memory: rebuilt at start from the KV snapshot plus the event tail and kept current by following
 * `bifrost.evt.heimdall.>`, so scorecards survive restarts and several instances converge.
 */
@Injectable()
export class HeimdallState implements OnModuleInit, BeforeApplicationShutdown {
  readonly domains: LiveAggregates<HeimdallDomainState, DomainEvent>;
  readonly context: LiveContext;
  private started?: Promise<unknown>;

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(ServiceInfo) info: ServiceInfo,
    @Inject(SERVICE_LOGGER) logger: Logger,
    @Inject(HEIMDALL_CONFIG) config: HeimdallConfig,
  ) {
    this.domains = new LiveAggregates(messaging, 'heimdall', 'domain', heimdallDecider as never);
    this.context = new LiveContext(
      messaging,
      'heimdall',
      [this.domains] as LiveAggregates<unknown, DomainEvent>[],
      { snapshotKey: `${info.service}.state`, snapshotEvery: config.HEIMDALL_SNAPSHOT_EVERY, logger },
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

  subjectOf(domain: string): string {
    return this.domains.subjectOf(domain);
  }

  domain(domain: string): HeimdallDomainState {
    return this.domains.get(domain).state;
  }

  /** Every domain Heimdall tracks (with a policy or with trials), sorted. */
  domainIds(): string[] {
    return [...this.domains.ids()].filter((id) => this.domain(id).status === 'tracked').sort();
  }
}
