import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '@bifrost/contracts';
import {
  APPROVERS_DIRECTORY_ID,
  approversDecider,
  governanceDecider,
  type ApproversCommand,
  type GovernanceCommand,
  type GovernanceEvent,
} from '@bifrost/domain-governance';
import type { Decider } from '@bifrost/event-sourcing';
import {
  KeyedMutex,
  Messaging,
  createEnvelope,
  handleCommand,
  type AggregateSource,
  type DomainEvent,
} from '@bifrost/messaging';
import { GovernanceMetrics } from '../governance.metrics';
import { GovernanceState } from '../state/governance-state';

export interface CommandResult {
  /** The events the command produced (empty: nothing changed). */
  readonly events: DomainEvent[];
  readonly lastSequence: number;
}

export interface Causation {
  readonly causationId?: string;
  readonly correlationId?: string;
}

/**
 * Runs commands on an engine's governance (or the approvers directory): decide on the in-memory
 * state, append with optimistic concurrency, one engine at a time in this process, every event
 * attributed to `actor`.
 */
@Injectable()
export class GovernanceCommands {
  constructor(
    @Inject(Messaging) private readonly messaging: Messaging,
    @Inject(GovernanceState) private readonly state: GovernanceState,
    @Inject(KeyedMutex) private readonly locks: KeyedMutex,
    @Inject(GovernanceMetrics) private readonly metrics: GovernanceMetrics,
  ) {}

  async engine(command: GovernanceCommand, actor: Actor, causation: Causation = {}): Promise<CommandResult> {
    const engineId = command.data.engineId;
    const result = await this.locks.run(`engine:${engineId}`, () =>
      this.run(
        governanceDecider,
        this.state.engines,
        this.state.engines.subjectOf(engineId),
        command,
        { approvers: this.state.approverRoles() },
        actor,
        causation,
      ),
    );
    this.metrics.recorded(engineId, result.events as GovernanceEvent[]);
    return result;
  }

  approvers(command: ApproversCommand, actor: Actor): Promise<CommandResult> {
    return this.locks.run('approvers', () =>
      this.run(
        approversDecider,
        this.state.approvers,
        this.state.approvers.subjectOf(APPROVERS_DIRECTORY_ID),
        command,
        undefined,
        actor,
        {},
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
            type: `governance.${event.type}`,
            subject: eventSubject,
            source: 'governance-agent',
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
