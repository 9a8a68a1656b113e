import { Inject, Injectable } from '@nestjs/common';
import {
  CONTROL_PLANE_AGGREGATE,
  controlPlane,
  strategyDecider,
  type ControlState,
  type StrategyState,
} from '@bifrost/domain-gate';
import { LiveState, Messaging, type AggregateEntry, type LiveAggregates } from '@bifrost/messaging';
import { HealthRegistry, type Logger } from '@bifrost/observability';
import { SERVICE_LOGGER } from '@bifrost/service';
import { GATE_CONFIG, type GateConfig } from '../gate.config';

/**
 * The gate's state in memory: the control plane and every strategy, rebuilt at start from the KV
 * snapshot plus the event tail and kept current by following `bifrost.evt.gate.>`. Checks are
 * refused while it is not proven current within `GATE_MAX_STATE_LAG_MS` (`assertCurrent`).
 */
@Injectable()
export class GateState extends LiveState {
  readonly control: LiveAggregates<ControlState>;
  readonly strategies: LiveAggregates<StrategyState>;
  /** Registered strategies per engine, as of the tail's position (`registeredStrategiesOf`). */
  private strategyCounts = { position: -1, byEngine: new Map<string, number>() };

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(SERVICE_LOGGER) logger: Logger,
    @Inject(GATE_CONFIG) config: GateConfig,
    @Inject(HealthRegistry) health: HealthRegistry,
  ) {
    super(messaging, 'gate', {
      snapshotEvery: 5000,
      logger,
      maxLagMs: config.GATE_MAX_STATE_LAG_MS,
    });
    this.control = this.aggregate(CONTROL_PLANE_AGGREGATE.aggregateType, controlPlane);
    this.strategies = this.aggregate('strategy', strategyDecider);
    health.register({
      name: 'gate-state',
      check: () => {
        const reason = this.staleReason();
        return reason ? { ok: false, detail: reason } : { ok: true };
      },
    });
  }

  get controlSubject(): string {
    return this.control.subjectOf(CONTROL_PLANE_AGGREGATE.aggregateId);
  }

  controlState(): ControlState {
    return this.controlEntry().state;
  }

  /** The control plane's state with the sequence it is at: read together, they cannot disagree. */
  controlEntry(): AggregateEntry<ControlState> {
    return this.control.get(CONTROL_PLANE_AGGREGATE.aggregateId);
  }

  strategySubject(engineId: string, strategyId: string): string {
    return this.strategies.subjectOf(`${engineId}:${strategyId}`);
  }

  /**
   * What the limit on registering weighs for a check or an outcome of `strategy`: its engine's
   * registered strategies while `strategy` is not registered, else 0 (the limit applies to nothing else).
   */
  strategiesBeforeRegistering(strategy: StrategyState, engineId: string): number {
    return strategy.status === 'registered' ? 0 : this.registeredStrategiesOf(engineId);
  }

  /**
   * The engine's registered strategies in this replica's state (snapshot + tail, so right after a
   * restart too), paid only by checks and outcomes of unknown strategies. Counted by a scan of every strategy,
   * kept until the tail applies another event: an engine at its limit inventing ids (which appends
   * nothing) costs one scan, not one per check. Checks of new strategies decided at once, on one
   * replica or several, may each register one past the limit (docs/gate-strategy.md, "Registration").
   */
  registeredStrategiesOf(engineId: string): number {
    const position = this.context.lastSequence;
    if (this.strategyCounts.position !== position) this.strategyCounts = { position, byEngine: new Map() };
    const known = this.strategyCounts.byEngine.get(engineId);
    if (known !== undefined) return known;
    const prefix = `${engineId}:`;
    let count = 0;
    for (const id of this.strategies.ids()) {
      if (id.startsWith(prefix) && this.strategies.get(id).state.status === 'registered') count += 1;
    }
    this.strategyCounts.byEngine.set(engineId, count);
    return count;
  }
}
