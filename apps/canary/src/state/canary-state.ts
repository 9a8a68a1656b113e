import { Inject, Injectable } from '@nestjs/common';
import {
  engineHeartbeatDecider,
  probeDecider,
  type EngineHeartbeatState,
  type ProbeState,
} from '@bifrost/domain-canary';
import { LiveState, Messaging, type LiveAggregates } from '@bifrost/messaging';
import type { Logger } from '@bifrost/observability';
import { SERVICE_LOGGER } from '@bifrost/service';
import { CANARY_CONFIG, type CanaryConfig } from '../canary.config';

/**
 * The canary's state in memory: every probe and every watched engine, rebuilt at start from the
 * KV snapshot plus the event tail and kept current by following `bifrost.evt.canary.>`. It starts
 * from `CanaryCommands.ready()` (the scheduler's and the monitor's bootstrap hooks), not at module
 * init.
 */
@Injectable()
export class CanaryState extends LiveState {
  readonly probes: LiveAggregates<ProbeState>;
  readonly engines: LiveAggregates<EngineHeartbeatState>;

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(SERVICE_LOGGER) logger: Logger,
    @Inject(CANARY_CONFIG) config: CanaryConfig,
  ) {
    super(messaging, 'canary', {
      snapshotEvery: config.CANARY_SNAPSHOT_EVERY,
      logger,
      startOnModuleInit: false,
    });
    this.probes = this.aggregate('probe', probeDecider);
    this.engines = this.aggregate('engine', engineHeartbeatDecider);
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
