import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '@bifrost/contracts';
import {
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
} from '@bifrost/messaging';
import { GateState } from '../state/gate-state';
import { KeyedMutex } from '../state/keyed-mutex';

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
        controlPlane as Decider<unknown, ControlCommand, DomainEvent, void>,
        this.state.control,
        this.state.controlSubject,
        command,
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
        strategyDecider as unknown as Decider<unknown, StrategyCommand, DomainEvent, void>,
        this.state.strategies,
        this.state.strategySubject(engineId, strategyId),
        command,
        actor,
        causation,
      ),
    );
  }

  private async run<C>(
    decider: Decider<unknown, C, DomainEvent, void>,
    source: AggregateSource<unknown>,
    subject: string,
    command: C,
    actor: Actor,
    causation: Causation,
  ): Promise<CommandResult> {
    const result = await handleCommand(this.messaging.eventStore, decider, source, {
      subject,
      command,
      ctx: undefined,
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
