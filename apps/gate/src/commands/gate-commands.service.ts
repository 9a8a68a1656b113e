import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '@bifrost/contracts';
import {
  DEFAULT_STRATEGY_POLICY,
  controlPlane,
  strategyDecider,
  type ControlCommand,
  type StrategyCommand,
} from '@bifrost/domain-gate';
import type { Decider } from '@bifrost/event-sourcing';
import {
  Messaging,
  createEnvelope,
  handleCommand,
  type AggregateSource,
  type DomainEvent,
  KeyedMutex,
} from '@bifrost/messaging';
import { GateState } from '../state/gate-state';

export interface CommandResult {
  /** The events the command produced (empty: nothing changed). */
  readonly events: DomainEvent[];
  readonly lastSequence: number;
}

/** Where a command came from: the event that caused it (reactions) and the request it belongs to. */
export interface Causation {
  readonly causationId?: string;
  readonly correlationId?: string;
}

/**
 * Runs commands on the gate's aggregates: decide on the in-memory state, append with optimistic
 * concurrency (reload and decide again on conflict), every event attributed to `actor`.
 */
@Injectable()
export class GateCommands {
  constructor(
    @Inject(Messaging) private readonly messaging: Messaging,
    @Inject(GateState) private readonly state: GateState,
    @Inject(KeyedMutex) private readonly locks: KeyedMutex,
  ) {}

  control(command: ControlCommand, actor: Actor, causation: Causation = {}): Promise<CommandResult> {
    return this.locks.run('control', () =>
      this.run(
        controlPlane,
        this.state.control,
        this.state.controlSubject,
        command,
        undefined,
        actor,
        causation,
      ),
    );
  }

  strategy(
    engineId: string,
    strategyId: string,
    command: StrategyCommand,
    actor: Actor,
    causation: Causation = {},
  ): Promise<CommandResult> {
    return this.locks.run(`${engineId}:${strategyId}`, () =>
      this.run(
        strategyDecider,
        this.state.strategies,
        this.state.strategySubject(engineId, strategyId),
        command,
        DEFAULT_STRATEGY_POLICY,
        actor,
        causation,
      ),
    );
  }

  private async run<S, C, E extends DomainEvent, Ctx>(
    decider: Decider<S, C, E, Ctx>,
    source: AggregateSource<S>,
    subject: string,
    command: C,
    ctx: Ctx,
    actor: Actor,
    causation: Causation,
  ): Promise<CommandResult> {
    const result = await handleCommand(this.messaging.eventStore, decider, source, {
      subject,
      command,
      ctx,
      meta: {
        toEnvelope: (event, eventSubject) =>
          createEnvelope({
            type: `gate.${event.type}`,
            subject: eventSubject,
            source: 'gate',
            actor,
            data: event.data,
            ...(causation.causationId ? { causationId: causation.causationId } : {}),
            ...(causation.correlationId ? { correlationId: causation.correlationId } : {}),
          }),
      },
    });
    return { events: result.events, lastSequence: result.lastSequence };
  }
}
