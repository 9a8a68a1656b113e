import { Inject, Injectable } from '@nestjs/common';
import { heimdallDecider, type HeimdallDomainState } from '@bifrost/domain-heimdall';
import { LiveState, Messaging, type LiveAggregates } from '@bifrost/messaging';
import type { Logger } from '@bifrost/observability';
import { SERVICE_LOGGER } from '@bifrost/service';
import { HEIMDALL_CONFIG, type HeimdallConfig } from '../heimdall.config';

/**
 * Every recommendation domain (`bifrost.evt.heimdall.domain.<domain>`: policy and scorecard) in
 * memory: rebuilt at start from the KV snapshot plus the event tail and kept current by following
 * `bifrost.evt.heimdall.>`, so scorecards survive restarts and several instances converge.
 * Evaluations are refused while it is not proven current within `HEIMDALL_MAX_STATE_LAG_MS`.
 */
@Injectable()
export class HeimdallState extends LiveState {
  readonly domains: LiveAggregates<HeimdallDomainState>;

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(SERVICE_LOGGER) logger: Logger,
    @Inject(HEIMDALL_CONFIG) config: HeimdallConfig,
  ) {
    super(messaging, 'heimdall', {
      snapshotEvery: config.HEIMDALL_SNAPSHOT_EVERY,
      logger,
      maxLagMs: config.HEIMDALL_MAX_STATE_LAG_MS,
    });
    this.domains = this.aggregate('domain', heimdallDecider);
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
