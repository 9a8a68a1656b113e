import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  CONTROL_PLANE_AGGREGATE,
  controlPlane,
  strategyDecider,
  type ControlState,
  type StrategyState,
} from '@bifrost/domain-gate';
import { LiveAggregates, LiveContext, Messaging, type DomainEvent } from '@bifrost/messaging';
import type { Logger } from '@bifrost/observability';
import { SERVICE_LOGGER, ServiceInfo } from '@bifrost/service';

/**
 * The gate's state in memory: the control plane and every strategy, rebuilt at start from the KV
 * snapshot plus the event tail and kept current by following `bifrost.evt.gate.>`.
 */
@Injectable()
export class GateState implements OnModuleInit, BeforeApplicationShutdown {
  readonly control: LiveAggregates<ControlState, DomainEvent>;
  readonly strategies: LiveAggregates<StrategyState, DomainEvent>;
  readonly context: LiveContext;
  private started?: Promise<unknown>;

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(ServiceInfo) info: ServiceInfo,
    @Inject(SERVICE_LOGGER) logger: Logger,
  ) {
    this.control = new LiveAggregates(
      messaging,
      'gate',
      CONTROL_PLANE_AGGREGATE.aggregateType,
      controlPlane as never,
    );
    this.strategies = new LiveAggregates(messaging, 'gate', 'strategy', strategyDecider as never);
    this.context = new LiveContext(
      messaging,
      'gate',
      [this.control, this.strategies] as LiveAggregates<unknown, DomainEvent>[],
      { snapshotKey: `${info.service}.state`, snapshotEvery: 5000, logger },
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
