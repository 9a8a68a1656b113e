import type { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DeliverPolicy } from '@nats-io/jetstream';
import { parseEventSubject, type Context } from '@bifrost/contracts';
import { TransientError, type Decider } from '@bifrost/event-sourcing';
import {
  decodeOrReport,
  stopWhenLost,
  toDomainEvent,
  type AggregateSource,
  type DomainEvent,
  type StoredEnvelope,
  type UnreadableEvent,
} from './event-store';
import type { Messaging } from './messaging';
import type { ConsumerLogger } from './consumer';
import { stateVersionOf, type LoadedSnapshot } from './snapshots';

export interface AggregateEntry<State> {
  readonly state: State;
  readonly lastSequence: number;
}

type Folding<State, Event> = Pick<
  Decider<State, never, Event, never>,
  'evolve' | 'initialState' | 'stateVersion'
>;

/**
 * In-memory states of every aggregate of one type (`bifrost.evt.<context>.<type>.<id>`), kept
 * current by a {@link LiveContext} tail and by the service's own appends. Each entry remembers the
 * stream sequence it includes, so an event seen twice (own append, then the tail) is applied once.
 */
export class LiveAggregates<State, Event extends DomainEvent = DomainEvent>
  implements AggregateSource<State>
{
  private readonly entries = new Map<string, AggregateEntry<State>>();
  private readonly stale = new Set<string>();
  /** When the events stream the entries were folded from was created; set by the `LiveContext`. */
  streamCreated?: string;

  constructor(
    private readonly messaging: Messaging,
    readonly context: Context,
    readonly aggregateType: string,
    private readonly decider: Folding<State, Event>,
  ) {}

  /** The decider's `stateVersion`: part of the snapshot's (`stateVersionOf`). */
  get stateVersion(): number | undefined {
    return this.decider.stateVersion;
  }

  subjectOf(aggregateId: string): string {
    return this.messaging.naming.eventSubject(this.context, this.aggregateType, aggregateId);
  }

  /** The current state, or the initial state for an aggregate that has no events. */
  get(aggregateId: string): AggregateEntry<State> {
    return this.entries.get(aggregateId) ?? { state: this.decider.initialState(), lastSequence: 0 };
  }

  has(aggregateId: string): boolean {
    return this.entries.has(aggregateId);
  }

  ids(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Folds one stored event into its aggregate unless the entry already includes it. */
  apply(aggregateId: string, stored: StoredEnvelope): void {
    const current = this.get(aggregateId);
    if (stored.sequence <= current.lastSequence) return;
    this.entries.set(aggregateId, {
      state: this.decider.evolve(current.state, toDomainEvent(stored.envelope) as Event),
      lastSequence: stored.sequence,
    });
  }

  /**
   * Counts an event of the aggregate this build cannot read as seen, without folding it: the
   * aggregate's next append then expects the subject's real last sequence. Otherwise every append
   * would fail its expectation, and the aggregate could never change again.
   */
  skip(aggregateId: string, sequence: number): void {
    const current = this.get(aggregateId);
    if (sequence > current.lastSequence)
      this.entries.set(aggregateId, { ...current, lastSequence: sequence });
  }

  async load(subject: string): Promise<AggregateEntry<State>> {
    const id = this.idOf(subject);
    if (!this.stale.has(id)) return this.get(id);
    // Not in a stream created again since (its sequences start over): the events after the entry's
    // sequence there would be folded into the old stream's state. The context rebuilds it first.
    if (
      this.streamCreated !== undefined &&
      (await this.messaging.eventStore.streamCreated()) !== this.streamCreated
    )
      throw new TransientError(
        `the events stream was created again; ${subject} is read once the state is rebuilt`,
      );
    // Another writer got there first and the tail has not caught up: read what the subject holds
    // after the entry (not its whole history: a busy aggregate's runs to many thousands), passing
    // over what this build cannot read as the tail does (it reports them).
    const base = this.get(id);
    let state = base.state;
    const lastSequence = await this.messaging.eventStore.readAll(
      subject,
      base.lastSequence + 1,
      (e) => {
        state = this.decider.evolve(state, toDomainEvent(e.envelope) as Event);
      },
      () => undefined,
    );
    this.stale.delete(id);
    const entry = { state, lastSequence };
    if (lastSequence > this.get(id).lastSequence) this.entries.set(id, entry);
    return this.get(id);
  }

  remember(subject: string, entry: AggregateEntry<State> | undefined): void {
    const id = this.idOf(subject);
    if (!entry) {
      this.stale.add(id);
      return;
    }
    if (entry.lastSequence > this.get(id).lastSequence) this.entries.set(id, entry);
  }

  /** The same aggregate type with no entries: where a rebuild replays before it is swapped in. */
  emptyCopy(): LiveAggregates<State, Event> {
    return new LiveAggregates(this.messaging, this.context, this.aggregateType, this.decider);
  }

  toSnapshot(): Record<string, AggregateEntry<State>> {
    return Object.fromEntries(this.entries);
  }

  restore(snapshot: Record<string, AggregateEntry<State>> | undefined): void {
    this.entries.clear();
    for (const [id, entry] of Object.entries(snapshot ?? {})) this.entries.set(id, entry);
  }

  private idOf(subject: string): string {
    const parsed = parseEventSubject(this.messaging.naming.canonical(subject));
    if (!parsed || parsed.context !== this.context || parsed.aggregateType !== this.aggregateType) {
      throw new Error(`${subject} is not a ${this.context}.${this.aggregateType} subject`);
    }
    return parsed.aggregateId;
  }
}

interface ContextSnapshot {
  readonly aggregates: Record<string, Record<string, AggregateEntry<unknown>>>;
}

export interface LiveContextOptions {
  readonly snapshotKey: string;
  /** Save a snapshot after this many applied events (and on stop). */
  readonly snapshotEvery?: number;
  readonly logger: ConsumerLogger;
  /** Called after every event the tail applied (metrics, reactions). */
  readonly onApplied?: (stored: StoredEnvelope) => void;
  /** Called when a rebuild (the events stream was recreated) replaced the whole state. */
  readonly onRebuilt?: () => void;
}

/**
 * All aggregates of one context, rebuilt at start from a KV snapshot plus the event tail, then kept
 * current by an ordered consumer on `bifrost.evt.<context>.>`: a restarted service reaches exactly
 * the state it had, and several instances converge on the same state.
 */
export class LiveContext {
  private position = 0;
  private appliedSinceSnapshot = 0;
  private stopped = false;
  private tail?: Promise<void>;
  private active?: { stop(): void };
  private readonly waiters: { sequence: number; resolve: () => void }[] = [];
  /** `performance.now()` up to which every event of the context is known to be applied. */
  private provenAt = 0;
  private proving?: Promise<void>;
  /** Bumped when the state is rebuilt: a tail of an earlier generation ends. */
  private generation = 0;
  private streamCreated?: string;

  /** `aggregates` is read at `start()`, so a {@link LiveState} may declare them after this. */
  constructor(
    private readonly messaging: Messaging,
    readonly context: Context,
    private readonly aggregates: readonly LiveAggregates<unknown, DomainEvent>[],
    private readonly options: LiveContextOptions,
  ) {}

  /** The version of the state a snapshot of this context holds (`stateVersionOf`). */
  get stateVersion(): string {
    return stateVersionOf(this.aggregates);
  }

  /** Last stream sequence the tail has applied (everything up to it is in memory). */
  get lastSequence(): number {
    return this.position;
  }

  async start(): Promise<{ replayed: number; fromSnapshot: boolean }> {
    this.streamCreated = await this.messaging.eventStore.streamCreated();
    for (const aggregates of this.aggregates) aggregates.streamCreated = this.streamCreated;
    // A snapshot of an earlier events stream, or folded by other code, is not used: the whole
    // context is replayed.
    const { snapshot, ignored } = await this.messaging.snapshots
      .load<ContextSnapshot>(this.options.snapshotKey, {
        streamCreated: this.streamCreated,
        stateVersion: this.stateVersion,
      })
      .catch((error: unknown): LoadedSnapshot<ContextSnapshot> => {
        this.options.logger.warn({ err: error }, 'snapshot unreadable; replaying the whole context');
        return {};
      });
    if (ignored)
      this.options.logger.warn(
        { context: this.context, snapshot: this.options.snapshotKey },
        `snapshot ${ignored} not used; replaying the whole context`,
      );
    for (const aggregates of this.aggregates)
      aggregates.restore(snapshot?.state.aggregates[aggregates.aggregateType]);
    this.position = snapshot?.lastSequence ?? 0;
    let replayed = 0;
    const replayFrom = performance.now();
    this.position = await this.messaging.eventStore.readAll(
      this.messaging.naming.contextEvents(this.context),
      this.position + 1,
      (stored) => {
        this.route(stored);
        replayed += 1;
      },
      this.skipIn(this.aggregates),
    );
    this.provenAt = replayFrom;
    this.tail = this.follow(this.generation);
    return { replayed, fromSnapshot: snapshot !== undefined };
  }

  /**
   * Milliseconds since the latest moment up to which every event of the context is known to be in
   * memory: set by the replay at start, then moved on by {@link verify}. It grows while the tail
   * delivers nothing new though the stream holds newer events, or while JetStream cannot be asked.
   */
  get staleness(): number {
    return performance.now() - this.provenAt;
  }

  /**
   * Asks the stream for the context's last sequence and, once the tail has applied it, moves the
   * proven moment on to when it asked. One at a time: while the tail is behind, it waits for it.
   */
  verify(): Promise<void> {
    this.proving ??= this.prove().finally(() => (this.proving = undefined));
    return this.proving;
  }

  private async prove(): Promise<void> {
    const asked = performance.now();
    const [created, last] = await Promise.all([
      this.messaging.eventStore.streamCreated(),
      this.messaging.jsm.streams.getMessage(this.messaging.naming.streams.events.name, {
        last_by_subj: this.messaging.naming.contextEvents(this.context),
      }),
    ]);
    if (created !== this.streamCreated) {
      // Deleted and created again (an operator's reset, lost storage): its sequences start over, so
      // the tail would wait past them and skip every new event.
      await this.rebuild(created);
      return;
    }
    const sequence = last?.seq ?? 0;
    if (!(await this.applied(sequence, PROVE_WAIT_MS))) {
      // Never waited for for good: a sequence of a stream since recreated, or deleted before the
      // tail read it, would hold every later verify (they share this one) and so the rebuild.
      throw new TransientError(
        `the event tail has not applied sequence ${sequence} within ${PROVE_WAIT_MS} ms; the next verify asks again`,
      );
    }
    this.provenAt = Math.max(this.provenAt, asked);
  }

  /**
   * Starts over from the new stream: the context is replayed from its first event into empty
   * copies of the aggregates, which then replace the live ones at once, so a handler sees either
   * the old state or the rebuilt one, never a partial one; meanwhile the state proves nothing
   * (staleness grows, so the gate refuses checks). Commands in the meantime decide on the old
   * state and fail their expected sequence against the new stream; their aggregate's re-read then
   * fails too (`TransientError`) until the rebuilt state is swapped in.
   * `onApplied` hears only the events that follow; `onRebuilt` hears the swap. The snapshot is
   * replaced. If the replay fails, the tail takes nothing from the new stream and asks for a verify
   * again (`follow`).
   */
  private async rebuild(streamCreated: string): Promise<void> {
    this.options.logger.error(
      { context: this.context, streamCreated },
      'events stream recreated; rebuilding the state',
    );
    this.provenAt = -Infinity;
    this.generation += 1;
    this.active?.stop();
    await this.tail;
    try {
      if (this.stopped) return;
      const fresh = this.aggregates.map((a) => a.emptyCopy());
      const replayFrom = performance.now();
      const last = await this.messaging.eventStore.readAll(
        this.messaging.naming.contextEvents(this.context),
        1,
        (stored) => this.applyTo(fresh, stored),
        this.skipIn(fresh),
      );
      if (this.stopped) return;
      this.aggregates.forEach((aggregates, i) => {
        aggregates.restore(fresh[i]?.toSnapshot());
        aggregates.streamCreated = streamCreated;
      });
      this.streamCreated = streamCreated;
      this.position = last;
      this.provenAt = replayFrom;
      // Waiters for sequences of the old stream would wait for ever; what they waited for is gone.
      for (const waiter of this.waiters.splice(0)) waiter.resolve();
      this.options.onRebuilt?.();
    } finally {
      if (!this.stopped) this.tail = this.follow(this.generation);
    }
    await this.snapshot();
  }

  /** Resolves once the tail has applied `sequence` (e.g. an append acknowledged elsewhere). */
  async waitUntil(sequence: number): Promise<void> {
    await this.applied(sequence, Infinity);
  }

  /** Whether the tail applies `sequence` within `withinMs` (a rebuild releases every waiter). */
  private applied(sequence: number, withinMs: number): Promise<boolean> {
    if (this.position >= sequence) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer =
        withinMs === Infinity
          ? undefined
          : setTimeout(() => {
              const at = this.waiters.indexOf(waiter);
              if (at >= 0) this.waiters.splice(at, 1);
              resolve(false);
            }, withinMs);
      const waiter = {
        sequence,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.waiters.push(waiter);
    });
  }

  async snapshot(): Promise<void> {
    const aggregates: ContextSnapshot['aggregates'] = {};
    for (const a of this.aggregates) aggregates[a.aggregateType] = a.toSnapshot();
    const lastSequence = this.position;
    const { stored, bytes } = await this.messaging.snapshots.save<ContextSnapshot>(this.options.snapshotKey, {
      state: { aggregates },
      ...(this.streamCreated ? { streamCreated: this.streamCreated } : {}),
      stateVersion: this.stateVersion,
      lastSequence,
      takenAt: new Date().toISOString(),
    });
    if (!stored) {
      this.options.logger.warn(
        { context: this.context, bytes },
        'snapshot not saved: above the KV value limit once compressed; a restart replays from the previous one',
      );
    }
    this.appliedSinceSnapshot = 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.active?.stop();
    await this.tail;
    await this.snapshot().catch((error) => this.options.logger.warn({ err: error }, 'final snapshot failed'));
  }

  /**
   * Follows the context with an ordered consumer from the position on. Its messages end when the
   * events stream is deleted or the connection is lost; each consumer after that is made only once
   * the stream is known to be the one the state was folded from. On a stream deleted and created
   * again (an operator's reset, lost storage, possibly while this service was cut off) a consumer
   * at the old position would fold the new stream's events into the old state; instead the tail
   * starts a verify, which rebuilds the state from the new stream and then follows it.
   */
  private async follow(generation: number): Promise<void> {
    while (!this.stopped && generation === this.generation) {
      try {
        if ((await this.messaging.eventStore.streamCreated()) !== this.streamCreated) {
          void this.verify().catch(() => undefined);
        } else await this.tailOnce(generation);
      } catch (error) {
        if (!this.stopped)
          this.options.logger.warn({ err: error, context: this.context }, 'event tail interrupted');
      }
      if (!this.stopped && generation === this.generation)
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** One consumer, until its messages end or it is stopped. */
  private async tailOnce(generation: number): Promise<void> {
    const consumer = await this.messaging.js.consumers.get(this.messaging.naming.streams.events.name, {
      filter_subjects: this.messaging.naming.contextEvents(this.context),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.position + 1,
    });
    // Ends when the stream or the consumer is gone, rather than letting nats.js make the consumer
    // again by itself: on a recreated stream, at the old position, it would fold the new stream's
    // events into the old state. `follow` makes the next one once it knows which stream it reads.
    const messages = await consumer.consume({
      max_messages: 512,
      expires: 5_000,
      abort_on_missing_resource: true,
    });
    this.active = messages;
    if (this.stopped || generation !== this.generation) messages.stop();
    const skip = this.skipIn(this.aggregates);
    // nats.js makes the consumer again on a gap in what it delivers, but an event lost on the way
    // with none after it would wait for the next event of the context.
    let delivered = 0;
    stopWhenLost(messages, () => delivered);
    try {
      for await (const msg of messages) {
        delivered = msg.info.deliverySequence;
        if (generation !== this.generation) break;
        if (msg.seq <= this.position) continue;
        const envelope = decodeOrReport(msg, this.messaging.catalogue, skip);
        if (envelope) this.route({ envelope, sequence: msg.seq });
        else {
          // Seen, if not applied: whoever waits for it (a verify, a command) goes on.
          this.position = msg.seq;
          this.release();
        }
      }
    } finally {
      // Deleted on the server once done with (stopped, a loss): else it stays there for the 5 min
      // inactive threshold nats.js gives an ordered consumer (already gone: nothing to do).
      void consumer.delete().catch(() => undefined);
    }
  }

  /**
   * Publishers validate, so an event this build cannot read is of a type (or version) it does not
   * know, e.g. written by a newer build before a rollback: it stays in the stream (the projector
   * parks it) and is skipped here, at start-up as in the tail, so the service still starts.
   */
  private readonly reportUnreadable = ({ error, sequence, subject }: UnreadableEvent): void => {
    this.options.logger.error({ err: error, seq: sequence, subject }, 'unreadable event skipped');
  };

  /** Folds `stored` into its aggregate among `aggregates` (none when its type is not declared). */
  private applyTo(aggregates: readonly LiveAggregates<unknown, DomainEvent>[], stored: StoredEnvelope): void {
    const target = this.aggregateOf(aggregates, stored.envelope.subject);
    if (target) target.aggregates.apply(target.id, stored);
  }

  /** Reports an event this build cannot read and counts it as seen by its aggregate (`skip`). */
  private skipIn(aggregates: readonly LiveAggregates<unknown, DomainEvent>[]) {
    return (unreadable: UnreadableEvent): void => {
      this.reportUnreadable(unreadable);
      const target = this.aggregateOf(aggregates, unreadable.subject);
      if (target) target.aggregates.skip(target.id, unreadable.sequence);
    };
  }

  private aggregateOf(aggregates: readonly LiveAggregates<unknown, DomainEvent>[], subject: string) {
    const parsed = parseEventSubject(this.messaging.naming.canonical(subject));
    const found = parsed && aggregates.find((a) => a.aggregateType === parsed.aggregateType);
    return parsed && found ? { aggregates: found, id: parsed.aggregateId } : undefined;
  }

  private route(stored: StoredEnvelope): void {
    this.applyTo(this.aggregates, stored);
    this.position = Math.max(this.position, stored.sequence);
    this.options.onApplied?.(stored);
    this.release();
    this.appliedSinceSnapshot += 1;
    if (this.appliedSinceSnapshot >= (this.options.snapshotEvery ?? 1000) && !this.stopped) {
      this.appliedSinceSnapshot = 0;
      void this.snapshot().catch((error) => this.options.logger.warn({ err: error }, 'snapshot failed'));
    }
  }

  private release(): void {
    for (let i = this.waiters.length - 1; i >= 0; i -= 1) {
      const waiter = this.waiters[i] as { sequence: number; resolve: () => void };
      if (waiter.sequence <= this.position) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}

const DEFAULT_VERIFY_EVERY_MS = 5_000;
/** Longest a verify waits for the tail to apply the sequence it read from the stream. */
const PROVE_WAIT_MS = 5_000;

export interface LiveStateOptions {
  /** KV key of the context's snapshot; default `<service>.state`. */
  readonly snapshotKey?: string;
  /** Save a snapshot after this many applied events (and on stop). */
  readonly snapshotEvery?: number;
  readonly logger: ConsumerLogger;
  /**
   * Rebuild the state in Nest's `onModuleInit` (default). `false`: only on the first `start()`, for a
   * service that starts it from a hook of its own.
   */
  readonly startOnModuleInit?: boolean;
  /**
   * How often to {@link LiveContext.verify} that the state is current (default 5 s). Verifying also
   * notices an events stream that was deleted and created again, and rebuilds the state from it.
   */
  readonly verifyEveryMs?: number;
  /**
   * Longest the state may go without being proven current before {@link LiveState.assertCurrent}
   * refuses to answer from it; verified a quarter of this apart unless `verifyEveryMs` says
   * otherwise. Unset: never refused.
   */
  readonly maxLagMs?: number;
}

/**
 * The Nest side of a service's in-memory state: one {@link LiveContext} over the aggregates the
 * subclass declares with {@link LiveState.aggregate}, started once (idempotent: Nest may run init
 * hooks for the HTTP app and the microservice), stopped with a final snapshot on shutdown.
 *
 * ```ts
 * @Injectable()
 * export class GateState extends LiveState {
 *   readonly strategies: LiveAggregates<StrategyState>;
 *   constructor(@Inject(Messaging) messaging: Messaging, @Inject(SERVICE_LOGGER) logger: Logger) {
 *     super(messaging, 'gate', { snapshotEvery: 5000, logger });
 *     this.strategies = this.aggregate('strategy', strategyDecider);
 *   }
 * }
 * ```
 */
export abstract class LiveState implements OnModuleInit, BeforeApplicationShutdown {
  readonly context: LiveContext;
  private readonly tracked: LiveAggregates<unknown, DomainEvent>[] = [];
  private readonly listeners: ((stored: StoredEnvelope) => void)[] = [];
  private readonly rebuiltListeners: (() => void)[] = [];
  private started?: Promise<{ replayed: number; fromSnapshot: boolean }>;
  private verifier?: NodeJS.Timeout;
  private stopping = false;

  protected constructor(
    protected readonly messaging: Messaging,
    context: Context,
    private readonly options: LiveStateOptions,
  ) {
    this.context = new LiveContext(messaging, context, this.tracked, {
      snapshotKey: options.snapshotKey ?? `${messaging.service}.state`,
      ...(options.snapshotEvery === undefined ? {} : { snapshotEvery: options.snapshotEvery }),
      logger: options.logger,
      onApplied: (stored) => {
        for (const listener of this.listeners) listener(stored);
      },
      onRebuilt: () => {
        for (const listener of this.rebuiltListeners) listener();
      },
    });
  }

  /** Rebuilds the state and starts following the context. Idempotent. */
  start(): Promise<{ replayed: number; fromSnapshot: boolean }> {
    this.started ??= this.context.start().then((result) => {
      this.verifyPeriodically();
      return result;
    });
    return this.started;
  }

  async onModuleInit(): Promise<void> {
    if (this.options.startOnModuleInit !== false) await this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.verifier);
    if (this.started) await this.context.stop();
  }

  /** Called for every event the tail applies (own appends included): metrics, reactions. */
  onApplied(listener: (stored: StoredEnvelope) => void): void {
    this.listeners.push(listener);
  }

  /** Called when the whole state was replaced by a rebuild from a recreated events stream. */
  onRebuilt(listener: () => void): void {
    this.rebuiltListeners.push(listener);
  }

  /**
   * Refuses to answer from state not proven current within `maxLagMs` (`INFRA.STATE_STALE`, which
   * another replica may answer): a replica whose tail stopped delivering would otherwise go on
   * deciding as if what the others appended (a kill switch, prod use disabled) had never been.
   */
  assertCurrent(): void {
    const reason = this.staleReason();
    if (reason) throw new TransientError(reason, { code: 'INFRA.STATE_STALE' });
  }

  /** Why the state is not proven current within `maxLagMs` (also while it is rebuilt), if so. */
  staleReason(): string | undefined {
    const limit = this.options.maxLagMs;
    const staleness = this.context.staleness;
    if (limit === undefined || staleness <= limit) return undefined;
    return (
      `this ${this.messaging.service} replica has not proven its state current for ${Math.round(staleness)} ms ` +
      `(limit ${limit} ms); another replica may answer`
    );
  }

  /** One verification at a time, the next `verifyEveryMs` after the last one settled. */
  private verifyPeriodically(): void {
    const { verifyEveryMs, maxLagMs } = this.options;
    const every =
      verifyEveryMs ?? (maxLagMs === undefined ? DEFAULT_VERIFY_EVERY_MS : Math.floor(maxLagMs / 4));
    if (this.stopping) return;
    this.verifier = setTimeout(() => {
      this.context
        .verify()
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error }, 'cannot verify the state is current'),
        )
        .finally(() => this.verifyPeriodically());
    }, every);
    this.verifier.unref();
  }

  /** Declares one aggregate type of the context (in the constructor: before `start()`). */
  protected aggregate<State, Event extends { readonly type: string }>(
    aggregateType: string,
    decider: Folding<State, Event>,
  ): LiveAggregates<State, DomainEvent> {
    if (this.started) throw new Error(`${aggregateType}: aggregates are declared before start()`);
    const aggregates = new LiveAggregates<State, DomainEvent>(
      this.messaging,
      this.context.context,
      aggregateType,
      decider as unknown as Folding<State, DomainEvent>,
    );
    this.tracked.push(aggregates as LiveAggregates<unknown, DomainEvent>);
    return aggregates;
  }
}
