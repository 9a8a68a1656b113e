import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import {
  engineHeartbeatDecider,
  probeDecider,
  type EngineHeartbeatState,
  type ProbeState,
} from '@bifrost/domain-canary';
import {
  LiveAggregates,
  LiveContext,
  Messaging,
  type DomainEvent,
  type StoredEnvelope,
} from '@bifrost/messaging';
import type { Logger } from '@bifrost/observability';
import { SERVICE_LOGGER, ServiceInfo } from '@bifrost/service';
import { CANARY_CONFIG, type CanaryConfig } from '../canary.config';

/**
 * The canary's state in memory: every probe and every watched engine, rebuilt at start from the
 * KV snapshot plus the event tail and kept current by following `bifrost.evt.canary.>`.
 */
@Injectable()
export class CanaryState implements BeforeApplicationShutdown {
  readonly probes: LiveAggregates<ProbeState, DomainEvent>;
  readonly engines: LiveAggregates<EngineHeartbeatState, DomainEvent>;
  readonly context: LiveContext;
  private readonly listeners: ((stored: StoredEnvelope) => void)[] = [];
  private started?: Promise<unknown>;

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(ServiceInfo) info: ServiceInfo,
    @Inject(SERVICE_LOGGER) logger: Logger,
    @Inject(CANARY_CONFIG) config: CanaryConfig,
  ) {
    this.probes = new LiveAggregates(messaging, 'canary', 'probe', probeDecider as never);
    this.engines = new LiveAggregates(messaging, 'canary', 'engine', engineHeartbeatDecider as never);
    this.context = new LiveContext(
      messaging,
      'canary',
      [this.probes, this.engines] as LiveAggregates<unknown, DomainEvent>[],
      {
        snapshotKey: `${info.service}.state`,
        snapshotEvery: config.CANARY_SNAPSHOT_EVERY,
        logger,
        onApplied: (stored) => {
          for (const listener of this.listeners) listener(stored);
        },
      },
    );
  }

  /** Idempotent. */
  start(): Promise<unknown> {
    this.started ??= this.context.start();
    return this.started;
  }

  /** Called for every canary event the tail applies (own appends included). */
  onApplied(listener: (stored: StoredEnvelope) => void): void {
    this.listeners.push(listener);
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.started) await this.context.stop();
  }

  probe(name: string): ProbeState {
    return this.probes.get(name).state;
  }

  engine(engineId: string): EngineHeartbeatState {
    return this.engines.get(engineId).state;
  }

  definedProbes(): Extract<ProbeState, { status: 'defined' }>[] {
    return [...this.probes.ids()]
      .sort()
      .map((id) => this.probe(id))
      .filter((s): s is Extract<ProbeState, { status: 'defined' }> => s.status === 'defined');
  }

  watchedEngineIds(): string[] {
    return [...this.engines.ids()].sort().filter((id) => this.engine(id).status === 'watched');
  }
}
