import { Inject, Injectable } from '@nestjs/common';
import {
  CONTROL_PLANE_AGGREGATE,
  controlPlane,
  strategyDecider,
  type ControlState,
  type StrategyState,
} from '@bifrost/domain-gate';
import { LiveState, Messaging, type LiveAggregates } from '@bifrost/messaging';
import type { Logger } from '@bifrost/observability';
import { SERVICE_LOGGER } from '@bifrost/service';

/**
 * The gate's state in memory: the control plane and every strategy, rebuilt at start from the KV
 * snapshot plus the event tail and kept current by following `bifrost.evt.gate.>`.
 */
@Injectable()
export class GateState extends LiveState {
  readonly control: LiveAggregates<ControlState>;
  readonly strategies: LiveAggregates<StrategyState>;

  constructor(@Inject(Messaging) messaging: Messaging, @Inject(SERVICE_LOGGER) logger: Logger) {
    super(messaging, 'gate', { snapshotEvery: 5000, logger });
    this.control = this.aggregate(CONTROL_PLANE_AGGREGATE.aggregateType, controlPlane);
    this.strategies = this.aggregate('strategy', strategyDecider);
  }

  get controlSubject(): string {
    return this.control.subjectOf(CONTROL_PLANE_AGGREGATE.aggregateId);
  }

  controlState(): ControlState {
    return this.control.get(CONTROL_PLANE_AGGREGATE.aggregateId).state;
  }

  strategySubject(engineId: string, strategyId: string): string {
    return this.strategies.subjectOf(`${engineId}:${strategyId}`);
  }
}
