import { Inject, Injectable } from '@nestjs/common';
import { tripwireDecider, type TripwireState as PolicyState } from '@bifrost/domain-tripwire';
import { LiveState, Messaging, type LiveAggregates } from '@bifrost/messaging';
import type { Logger } from '@bifrost/observability';
import { SERVICE_LOGGER } from '@bifrost/service';
import { TRIPWIRE_CONFIG, type TripwireConfig } from '../tripwire.config';

/**
 * Every tripwire policy (`bifrost.evt.tripwire.policy.<policyId>`) with every engine's windows, in
 * memory: rebuilt at start from the KV snapshot plus the event tail and kept current by following
 * `bifrost.evt.tripwire.>`, so windows survive restarts and several instances converge.
 */
@Injectable()
export class TripwireState extends LiveState {
  readonly policies: LiveAggregates<PolicyState>;

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(SERVICE_LOGGER) logger: Logger,
    @Inject(TRIPWIRE_CONFIG) config: TripwireConfig,
  ) {
    super(messaging, 'tripwire', { snapshotEvery: config.TRIPWIRE_SNAPSHOT_EVERY, logger });
    this.policies = this.aggregate('policy', tripwireDecider);
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
