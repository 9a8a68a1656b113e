import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '@bifrost/contracts';
import {
  controlPlane,
  strategyDecider,
  type ControlCommand,
  type StrategyCommand,
} from '@bifrost/domain-gate';
import { CommandRunner, KeyedMutex, Messaging, type Causation, type CommandResult } from '@bifrost/messaging';
import { GATE_POLICIES, type GatePolicies } from '../gate.config';
import { GateState } from '../state/gate-state';

/**
 * Runs commands on the gate's aggregates: decide on the in-memory state, append with optimistic
 * concurrency (reload and decide again on conflict), every event attributed to `actor`.
 */
@Injectable()
export class GateCommands {
  private readonly runner: CommandRunner;

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(GateState) private readonly state: GateState,
    // Shared with the gate check, which takes the same strategy keys.
    @Inject(KeyedMutex) locks: KeyedMutex,
    @Inject(GATE_POLICIES) private readonly policies: GatePolicies,
  ) {
    this.runner = new CommandRunner(messaging, { context: 'gate', source: 'gate', locks });
  }

  /** `command` made by a function is made under the lock, when its turn comes (its `now` then). */
  control(
    command: ControlCommand | (() => ControlCommand),
    actor: Actor,
    causation: Causation = {},
  ): Promise<CommandResult> {
    return this.runner.run({
      key: 'control',
      decider: controlPlane,
      aggregates: this.state.control,
      subject: this.state.controlSubject,
      command,
      ctx: undefined,
      actor,
      causation,
    });
  }

  strategy(
    engineId: string,
    strategyId: string,
    command: StrategyCommand | (() => StrategyCommand),
    actor: Actor,
    causation: Causation = {},
  ): Promise<CommandResult> {
    return this.runner.run({
      key: `${engineId}:${strategyId}`,
      decider: strategyDecider,
      aggregates: this.state.strategies,
      subject: this.state.strategySubject(engineId, strategyId),
      command,
      ctx: this.policies.strategy,
      actor,
      causation,
    });
  }
}
