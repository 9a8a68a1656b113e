import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '@bifrost/contracts';
import {
  APPROVERS_DIRECTORY_ID,
  approversDecider,
  governanceDecider,
  type ApproversCommand,
  type GovernanceCommand,
} from '@bifrost/domain-governance';
import { CommandRunner, KeyedMutex, Messaging, type Causation, type CommandResult } from '@bifrost/messaging';
import { GovernanceMetrics } from '../governance.metrics';
import { GovernanceState } from '../state/governance-state';

/**
 * Runs commands on an engine's governance (or the approvers directory): decide on the in-memory
 * state, append with optimistic concurrency, one engine at a time in this process, every event
 * attributed to `actor`.
 */
@Injectable()
export class GovernanceCommands {
  private readonly runner: CommandRunner;

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(GovernanceState) private readonly state: GovernanceState,
    @Inject(KeyedMutex) private readonly locks: KeyedMutex,
    @Inject(GovernanceMetrics) private readonly metrics: GovernanceMetrics,
  ) {
    this.runner = new CommandRunner(messaging, { context: 'governance', source: 'governance-agent', locks });
  }

  /** `command` made by a function is made under the engine's lock, when its turn comes (its `now` then). */
  async engine(
    command: GovernanceCommand | (() => GovernanceCommand),
    actor: Actor,
    causation: Causation = {},
  ): Promise<CommandResult> {
    const engineId = (typeof command === 'function' ? command() : command).data.engineId;
    // The approvers are read under the engine's lock, when the command's turn comes.
    const result = await this.locks.run(`engine:${engineId}`, () =>
      this.runner.run({
        decider: governanceDecider,
        aggregates: this.state.engines,
        subject: this.state.engines.subjectOf(engineId),
        command,
        ctx: { approvers: this.state.approverRoles() },
        actor,
        causation,
      }),
    );
    this.metrics.recorded(engineId, result.events);
    return result;
  }

  approvers(command: ApproversCommand, actor: Actor): Promise<CommandResult> {
    return this.runner.run({
      key: 'approvers',
      decider: approversDecider,
      aggregates: this.state.approvers,
      subject: this.state.approvers.subjectOf(APPROVERS_DIRECTORY_ID),
      command,
      ctx: undefined,
      actor,
    });
  }
}
