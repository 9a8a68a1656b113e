import type { Actor, Context } from '@bifrost/contracts';
import type { Decider } from '@bifrost/event-sourcing';
import { createEnvelope } from './envelope-codec';
import { handleCommand, type AggregateSource, type DomainEvent } from './event-store';
import { KeyedMutex } from './keyed-mutex';
import type { Messaging } from './messaging';

/** Where a command came from: the event that caused it (reactions) and the request it belongs to. */
export interface Causation {
  readonly causationId?: string;
  readonly correlationId?: string;
}

export interface CommandResult<Event extends DomainEvent = DomainEvent> {
  /** The events the command produced (empty: nothing changed). */
  readonly events: Event[];
  /** The aggregate subject's last sequence after the command (unchanged when nothing was appended). */
  readonly lastSequence: number;
}

export interface CommandRunnerOptions {
  /** Every event's type is `<context>.<EventType>`. */
  readonly context: Context;
  /** The envelopes' `source`: the service that decided. */
  readonly source: string;
  /**
   * Serialises commands that share a `key` in this process. Pass the service's injected one when
   * other code takes the same keys; default: a mutex of this runner's own.
   */
  readonly locks?: KeyedMutex;
  /** Who an event is attributed to; default the command's actor (e.g. the service for its triggers). */
  readonly actorFor?: (event: DomainEvent, actor: Actor) => Actor;
}

export interface RunCommand<State, Command, Event extends DomainEvent, Ctx> {
  readonly decider: Decider<State, Command, Event, Ctx>;
  /** The aggregate's in-memory state (a `LiveAggregates`) or `streamSource(...)`. */
  readonly aggregates: AggregateSource<State>;
  readonly subject: string;
  /**
   * The command, or how to make it: called on each attempt, under the lock, so that the time it
   * carries (`now`) is the time it is decided at, not when it arrived and then waited.
   */
  readonly command: Command | (() => Command);
  readonly ctx: Ctx;
  readonly actor: Actor;
  readonly causation?: Causation;
  /** Runs under this lock key (commands with the same key one after another); none: no lock. */
  readonly key?: string;
}

/**
 * Runs commands on one context's aggregates: decide on the current state, append with optimistic
 * concurrency (reload and decide again on conflict), every event wrapped in an envelope typed
 * `<context>.<EventType>`, attributed to the command's actor and carrying its causation.
 */
export class CommandRunner {
  private readonly locks: KeyedMutex;

  constructor(
    private readonly messaging: Messaging,
    private readonly options: CommandRunnerOptions,
  ) {
    this.locks = options.locks ?? new KeyedMutex();
  }

  run<State, Command, Event extends DomainEvent, Ctx>(
    request: RunCommand<State, Command, Event, Ctx>,
  ): Promise<CommandResult<Event>> {
    if (request.key === undefined) return this.decideAndAppend(request);
    return this.locks.run(request.key, () => this.decideAndAppend(request));
  }

  private async decideAndAppend<State, Command, Event extends DomainEvent, Ctx>(
    request: RunCommand<State, Command, Event, Ctx>,
  ): Promise<CommandResult<Event>> {
    const { context, source, actorFor } = this.options;
    const { causationId, correlationId } = request.causation ?? {};
    const result = await handleCommand(this.messaging.eventStore, request.decider, request.aggregates, {
      subject: request.subject,
      command: request.command,
      ctx: request.ctx,
      meta: {
        toEnvelope: (event, subject) =>
          createEnvelope({
            type: `${context}.${event.type}`,
            subject,
            source,
            actor: actorFor ? actorFor(event, request.actor) : request.actor,
            data: event.data,
            ...(causationId ? { causationId } : {}),
            ...(correlationId ? { correlationId } : {}),
          }),
      },
    });
    return { events: result.events, lastSequence: result.lastSequence };
  }
}
