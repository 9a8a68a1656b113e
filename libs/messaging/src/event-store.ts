import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { Catalogue, Envelope, Naming } from '@bifrost/contracts';
import {
  ConcurrencyError,
  InternalError,
  TransientError,
  isBifrostError,
  type Decider,
} from '@bifrost/event-sourcing';
import { decodeEnvelope } from './envelope-codec';
import type { Publisher } from './publisher';

/** An envelope as stored: with its stream sequence. */
export interface StoredEnvelope {
  readonly envelope: Envelope;
  readonly sequence: number;
}

/** A domain event as deciders see it: the envelope type without its `<context>.` prefix. */
export interface DomainEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
}

export function toDomainEvent(envelope: Envelope): DomainEvent {
  return { type: envelope.type.slice(envelope.type.indexOf('.') + 1), data: envelope.data };
}

const READ_BATCH = 1000;

/**
 * A read JetStream did not answer (the stream gone or being recreated, no leader, an API call
 * timed out) is an infrastructure failure, as a refused publish is: a consumer retries it, a
 * request gets `INFRA.UNAVAILABLE`. nats.js throws its own errors, which would otherwise count as
 * a bug (parked after a few attempts, `INTERNAL.ERROR`). The original stays as `cause` for the log.
 */
function readFailure(error: unknown): unknown {
  return isBifrostError(error)
    ? error
    : new TransientError('JetStream did not answer a read of the event store', { cause: error });
}

async function jetStreamRead<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw readFailure(error);
  }
}

/**
 * JetStream as the event store (ADR 0001): one subject per aggregate, appends guarded by
 * Nats-Expected-Last-Subject-Sequence, reads through short-lived ephemeral consumers.
 */
export class EventStore {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly naming: Naming,
    private readonly publisher: Publisher,
    private readonly catalogue?: Catalogue,
  ) {}

  /**
   * Every event of one aggregate subject and the subject's last sequence (0 when empty). An event
   * this build cannot read fails the read, unless `onUnreadable` is given (see `readAll`); the last
   * sequence counts it either way.
   */
  async read(
    subject: string,
    onUnreadable?: (unreadable: UnreadableEvent) => void,
  ): Promise<{ events: StoredEnvelope[]; lastSequence: number }> {
    const events: StoredEnvelope[] = [];
    const lastSequence = await this.readAll(
      subject,
      1,
      (event) => {
        events.push(event);
      },
      onUnreadable,
    );
    return { events, lastSequence };
  }

  /** The sequence of the last event matching `filter` (a subject, or a wildcard) now; 0 when none. */
  async lastSequenceOf(filter: string): Promise<number> {
    const stream = this.naming.streams.events.name;
    return (
      (await jetStreamRead(() => this.jsm.streams.getMessage(stream, { last_by_subj: filter })))?.seq ?? 0
    );
  }

  /** When the events stream was created: it tells one incarnation of the stream from the next. */
  async streamCreated(): Promise<string> {
    return (await jetStreamRead(() => this.jsm.streams.info(this.naming.streams.events.name))).created;
  }

  /**
   * Feeds every event matching `filter` from `fromSequence` up to the current end of the stream to
   * `onEvent`, in order, and returns the last sequence seen (`fromSequence - 1` when none). An event
   * this build cannot read (a type or version it does not know) fails the read, unless
   * `onUnreadable` is given: then it is passed there and skipped.
   *
   * The end is the last matching message when the read starts, asked of the stream. Not the
   * consumer's pending count: nats-server 2.9 miscounts it for a filtered consumer that starts
   * mid-stream (too many: the read waited for ever, and a service restarting from its snapshot
   * never started; too few: it stopped early).
   */
  async readAll(
    filter: string,
    fromSequence: number,
    onEvent: (event: StoredEnvelope) => void | Promise<void>,
    onUnreadable?: (unreadable: UnreadableEvent) => void,
  ): Promise<number> {
    let last = fromSequence - 1;
    const end = await this.lastSequenceOf(filter);
    // A read that lost messages on the way (its connection cut while they were in flight) stops
    // where they went missing and goes on from there with a new consumer.
    while (last < end) last = await this.readUntilLost(filter, last + 1, end, onEvent, onUnreadable);
    return last;
  }

  /**
   * `readAll` with one consumer, up to `end` or to the first message lost on the way. The read
   * consumer acks nothing, so the server never sends again what a cut connection lost: the rest of
   * a pull was skipped without a word, or, at the end of the read, waited for for ever. The server
   * numbers what it delivers (1, 2, …): a message out of that order means some were lost before
   * it; {@link stopWhenLost} notices those with none after them.
   */
  private async readUntilLost(
    filter: string,
    fromSequence: number,
    end: number,
    onEvent: (event: StoredEnvelope) => void | Promise<void>,
    onUnreadable?: (unreadable: UnreadableEvent) => void,
  ): Promise<number> {
    const stream = this.naming.streams.events.name;
    let last = fromSequence - 1;
    const info = await jetStreamRead(() =>
      this.jsm.consumers.add(stream, {
        filter_subject: filter,
        ack_policy: AckPolicy.None,
        mem_storage: true,
        inactive_threshold: 30_000_000_000,
        ...(fromSequence > 1
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSequence }
          : { deliver_policy: DeliverPolicy.All }),
      }),
    );
    // Whether a failure is the caller's (`onEvent`, or an event it cannot read) or the stream's.
    let inCaller = false;
    try {
      const consumer = await this.js.consumers.get(stream, info.name);
      // The read consumer lives in memory: a server restart (or a client cut off for longer than
      // its inactive threshold) removes it. Short pulls let nats.js miss two heartbeats and find
      // it gone within seconds, and the read then fails rather than wait for ever.
      const messages = await consumer.consume({
        max_messages: READ_BATCH,
        expires: 5_000,
        abort_on_missing_resource: true,
      });
      let delivered = 0;
      stopWhenLost(messages, () => delivered);
      for await (const msg of messages) {
        if (msg.info.deliverySequence !== delivered + 1) break;
        delivered = msg.info.deliverySequence;
        inCaller = true;
        const envelope = onUnreadable
          ? decodeOrReport(msg, this.catalogue, onUnreadable)
          : decodeEnvelope(msg.data, this.catalogue);
        if (envelope) await onEvent({ envelope, sequence: msg.seq });
        inCaller = false;
        last = msg.seq;
        if (last >= end) break;
      }
      return last;
    } catch (error) {
      throw inCaller ? error : readFailure(error);
    } finally {
      await this.jsm.consumers.delete(stream, info.name).catch(() => undefined);
    }
  }

  /**
   * Appends events to one aggregate subject, expecting `expectedSequence` to be the subject's last
   * sequence (0 = new aggregate). Returns the new last sequence; throws `ConcurrencyError` when
   * another writer got there first. Events after the first chain their expectation on the previous
   * acknowledgement, so none lands after another writer's event; but the events are stored one
   * message at a time, and a failure (or another writer that saw the first) after the first leaves
   * the rest unstored: deciders complete such a decision from the state (docs/architecture.md
   * "Event store on JetStream"). `timeoutMs` bounds the wait for each acknowledgement (the
   * publisher's default otherwise).
   */
  async append(
    subject: string,
    envelopes: readonly Envelope[],
    expectedSequence: number,
    { timeoutMs }: { timeoutMs?: number } = {},
  ): Promise<number> {
    // Every event checked and encoded before the first is stored: an invalid second event must not
    // leave the first appended alone (only the transport can still fail between two of them).
    const bodies = envelopes.map((envelope) => {
      if (envelope.subject !== subject)
        throw new Error(`envelope subject ${envelope.subject} is not ${subject}`);
      return this.publisher.encode(envelope);
    });
    let expected = expectedSequence;
    for (const [i, envelope] of envelopes.entries()) {
      const ack = await this.publisher.publish(
        envelope,
        { expectedLastSubjectSequence: expected, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
        bodies[i],
      );
      if (ack.duplicate) await this.assertStoredAs(ack.seq, subject, bodies[i] as Uint8Array);
      expected = ack.seq;
    }
    return expected;
  }

  /**
   * The stream dedupes by `Nats-Msg-Id` (the envelope id) across all subjects, before it checks the
   * expected sequence, and acknowledges a duplicate with the first copy's sequence. That copy is this
   * event when an append is retried; an event of another subject, or another event, when an id was
   * used again: then nothing was stored, and its sequence is no last sequence of this subject.
   */
  private async assertStoredAs(sequence: number, subject: string, body: Uint8Array): Promise<void> {
    const stored = await jetStreamRead(() =>
      this.jsm.streams.getMessage(this.naming.streams.events.name, { seq: sequence }),
    );
    if (stored?.subject !== subject || !Buffer.from(stored.data).equals(body)) {
      throw new InternalError(
        `the stream holds another event under this event's id (at sequence ${sequence}); nothing was appended to ${subject}`,
        { code: 'ENVELOPE.ID_REUSED' },
      );
    }
  }
}

export interface CommandMeta {
  /** Builds the envelope of each decided event (type prefix, source, actor, correlation). */
  toEnvelope(event: DomainEvent, subject: string): Envelope;
}

export interface HandledCommand<State, Event> {
  readonly events: Event[];
  readonly state: State;
  readonly lastSequence: number;
}

/** Where an aggregate's current state comes from; a cache of in-memory state, or the stream. */
export interface AggregateSource<State> {
  load(subject: string): Promise<{ state: State; lastSequence: number }>;
  /** Called after a successful append, and with `undefined` to drop a stale entry on conflict. */
  remember?(subject: string, entry: { state: State; lastSequence: number } | undefined): void;
}

/** Loads an aggregate by folding its subject from the stream. */
export function streamSource<State, Event extends DomainEvent>(
  store: EventStore,
  decider: Pick<Decider<State, never, Event, never>, 'evolve' | 'initialState'>,
): AggregateSource<State> {
  return {
    async load(subject) {
      const { events, lastSequence } = await store.read(subject);
      const state = events.reduce(
        (s, e) => decider.evolve(s, toDomainEvent(e.envelope) as Event),
        decider.initialState(),
      );
      return { state, lastSequence };
    },
  };
}

/**
 * decide → append with optimistic concurrency → on conflict reload and decide again, at most
 * `maxAttempts` times. An empty decision appends nothing; decided on a copy of the state kept in
 * memory (a source that remembers), it stands only if the stream has nothing newer for the subject,
 * else the copy is dropped and the command decided again. An append is checked by its expected
 * sequence; "nothing to do" has no append to check it, and a copy behind another writer's append
 * would answer, say, "already engaged" for a kill switch another replica had just released.
 */
export async function handleCommand<State, Command, Event extends DomainEvent, Ctx>(
  store: EventStore,
  decider: Decider<State, Command, Event, Ctx>,
  source: AggregateSource<State>,
  request: { subject: string; command: Command | (() => Command); ctx: Ctx; meta: CommandMeta },
  maxAttempts = 5,
): Promise<HandledCommand<State, Event>> {
  let lastConflict: unknown;
  for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
    const { state, lastSequence } = await source.load(request.subject);
    // A command made here, on the state it is decided on, reads the clock now: not when it was
    // asked for, before a wait for the aggregate's lock or a conflicting append.
    const command =
      typeof request.command === 'function' ? (request.command as () => Command)() : request.command;
    const events = decider.decide(command, state, request.ctx);
    if (events.length === 0) {
      const { remember } = source;
      if (remember === undefined || (await store.lastSequenceOf(request.subject)) === lastSequence) {
        return { events, state, lastSequence };
      }
      remember.call(source, request.subject, undefined);
      continue;
    }
    try {
      const envelopes = events.map((e) => request.meta.toEnvelope(e, request.subject));
      const newLast = await store.append(request.subject, envelopes, lastSequence);
      const next = events.reduce((s, e) => decider.evolve(s, e), state);
      source.remember?.(request.subject, { state: next, lastSequence: newLast });
      return { events, state: next, lastSequence: newLast };
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      lastConflict = error;
      source.remember?.(request.subject, undefined);
    }
  }
  throw new ConcurrencyError(
    `gave up on ${request.subject} after ${maxAttempts} concurrent-append conflicts`,
    {
      cause: lastConflict,
    },
  );
}

/**
 * Stops `messages` of a consumer that acks nothing once the server's idle heartbeats say it
 * delivered more than was taken (`delivered`: the delivery sequence of the last message taken),
 * twice with nothing taken between. What a cut connection lost is never sent again, and with no
 * message after it to show the gap, its reader would wait for it for ever; stopped, it makes a new
 * consumer after what it took.
 *
 * An ordered consumer that sees such a gap is made again by nats.js (a `reset`), from after the
 * last message it received, and numbers its deliveries from 1 again: its heartbeats then no longer
 * compare with `delivered`, and what it sends can be lost unnoticed in turn. So a reset is taken
 * as a loss too: the messages end, and the reader goes on from what it took.
 */
export function stopWhenLost(messages: ConsumerMessages, delivered: () => number): void {
  void (async () => {
    let unchanged: number | undefined;
    for await (const status of messages.status()) {
      if (status.type === 'reset') {
        messages.stop();
        return;
      }
      if (status.type !== 'heartbeat') continue;
      const taken = delivered();
      if (status.lastConsumerSequence <= taken) unchanged = undefined;
      else if (unchanged === taken) messages.stop();
      else unchanged = taken;
    }
  })();
}

/** An event read from the stream that this build cannot decode or validate. */
export interface UnreadableEvent {
  readonly error: unknown;
  readonly sequence: number;
  readonly subject: string;
}

/** The envelope of `msg`, or undefined after passing it to `onUnreadable`. */
export function decodeOrReport(
  msg: Pick<JsMsg, 'data' | 'seq' | 'subject'>,
  catalogue: Catalogue | undefined,
  onUnreadable: (unreadable: UnreadableEvent) => void,
): Envelope | undefined {
  try {
    return decodeEnvelope(msg.data, catalogue);
  } catch (error) {
    onUnreadable({ error, sequence: msg.seq, subject: msg.subject });
    return undefined;
  }
}
