import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { Catalogue, Envelope, Naming, StreamKey } from '@bifrost/contracts';
import { errorKind, isInfraFailure, toErrorBody } from '@bifrost/event-sourcing';
import { decodeEnvelope } from './envelope-codec';
import { deadLetterOf, parkDeadLetter } from './dlq';
import { extractTraceContext, inSpan, markSpanFailed } from './tracing';

export interface Delivery {
  readonly subject: string;
  readonly streamSequence: number;
  readonly deliveryCount: number;
  readonly stream: string;
}

export type EnvelopeHandler = (envelope: Envelope, delivery: Delivery) => Promise<void>;

export interface ConsumerSpec {
  readonly service: string;
  /** Durable name is `<service>__<purpose>`. */
  readonly purpose: string;
  readonly stream: StreamKey;
  /** Canonical filter subject (`bifrost.ingest.outcome.*`); the namespace is applied here. */
  readonly filter: string;
  readonly maxDeliver?: number;
  readonly ackWaitMs?: number;
  /** Redelivery delay after a transient failure: base · 2^(attempt-1), capped (30 s; 2 s until applied). */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly deliverPolicy?: 'all' | 'new';
  /**
   * One message in flight across every instance (`max_ack_pending` 1): messages are handled in
   * stream order even with several replicas and retries (a failed message holds back the next).
   * For streams whose order carries meaning (phase changes, kill-switch requests, outcomes) and
   * whose rate one message at a time keeps up with (several hundred a second).
   */
  readonly ordered?: boolean;
  /**
   * Failures of the infrastructure (`TransientError`, `ConcurrencyError`) are retried without limit
   * (the backoff capped at `backoffMaxMs`, 2 s by default) instead of parked after `maxDeliver`
   * attempts: for messages that tighten a control (a kill switch, a pause, a throttle, an autonomy
   * phase) or carry the evidence that would (an outcome, a KPI, an incident), where a parked one
   * would leave the control open until an operator replays it. Invalid messages, permanent failures
   * and unexpected errors (bugs, which would hold back an ordered route for good) are still parked.
   */
  readonly untilApplied?: boolean;
}

export interface ConsumerLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A message delivered this many times `maxDeliver` is parked whatever this runner counted. */
const DELIVERY_BACKSTOP = 4;
const MAX_TRACKED_ATTEMPTS = 10_000;

/** Told how a durable consumer is doing, for its metrics. */
export interface ConsumerObserver {
  /**
   * How many messages of its stream still wait for the consumer (its lag): at start; after each
   * message acked, retried or parked, as the server counted them at that message's delivery; and,
   * while a handler runs, every half ack wait from the server (the message in hand included), so a
   * stuck consumer shows a growing lag.
   */
  pending(consumer: string, pending: number): void;
  /** A message was parked on the DLQ. */
  parked(consumer: string): void;
}

const NS_PER_MS = 1_000_000;

/**
 * Durable pull consumer loop. Each message ends in exactly one of ack (handled), nak with backoff
 * (transient failure, attempts left) or term after parking it on the DLQ (invalid, permanent
 * failure, or attempts exhausted). The loop re-establishes itself when the subscription ends.
 */
export class ConsumerRunner {
  private stopped = false;
  private active?: { stop(): void; close(): Promise<void | Error> };
  private done?: Promise<void>;
  readonly durable: string;
  private readonly maxDeliver: number;
  /**
   * Failed handler attempts per stream sequence, in this runner. The server's delivery count also
   * counts every delivery handed back unhandled (the buffer naked at each stop), so a message
   * carried through a few restarts would be parked after one real failure.
   */
  private readonly attempts = new Map<number, number>();

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly naming: Naming,
    private readonly spec: ConsumerSpec,
    private readonly handler: EnvelopeHandler,
    private readonly logger: ConsumerLogger,
    private readonly catalogue?: Catalogue,
    private readonly observer?: ConsumerObserver,
  ) {
    this.durable = naming.consumerName(spec.service, spec.purpose);
    this.maxDeliver = spec.maxDeliver ?? 5;
  }

  async start(): Promise<void> {
    await this.ensureConsumer();
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.active?.stop();
    await this.done;
  }

  private get ackWaitMs(): number {
    return this.spec.ackWaitMs ?? 30_000;
  }

  private get streamName(): string {
    return this.naming.streams[this.spec.stream].name;
  }

  private async ensureConsumer(): Promise<void> {
    const config: Partial<ConsumerConfig> = {
      durable_name: this.durable,
      filter_subject: this.naming.qualify(this.spec.filter),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: this.spec.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
      // The attempt limit is enforced here, not by the server: a message whose parking fails must
      // still be redelivered, which a server-side max_deliver would prevent.
      max_deliver: -1,
      ack_wait: this.ackWaitMs * NS_PER_MS,
      max_ack_pending: this.spec.ordered ? 1 : 1000,
    };
    const existing = await this.jsm.consumers.info(this.streamName, this.durable).catch(() => undefined);
    if (!existing) {
      const added = await this.jsm.consumers.add(this.streamName, config);
      this.observer?.pending(this.durable, added.num_pending);
      return;
    }
    this.observer?.pending(this.durable, existing.num_pending);
    if (existing.config.filter_subject !== config.filter_subject) {
      throw new Error(
        `consumer ${this.durable} exists with filter ${existing.config.filter_subject}, expected ${config.filter_subject}`,
      );
    }
    if (
      existing.config.ack_wait !== config.ack_wait ||
      existing.config.max_ack_pending !== config.max_ack_pending
    ) {
      await this.jsm.consumers.update(this.streamName, this.durable, {
        ack_wait: config.ack_wait,
        max_ack_pending: config.max_ack_pending,
      });
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const consumer = await this.js.consumers.get(this.streamName, this.durable);
        // Messages a pull brought: the one being handled and those no handler has reached yet. The
        // server started their ack wait when it sent them, so all are kept in hand while a handler
        // is slow, or the server would send each of them again (to another instance, too).
        // nats.js's iterator hides its buffer, hence the callback and a queue of our own.
        const waiting: JsMsg[] = [];
        let handling: JsMsg | undefined;
        let wake: (() => void) | undefined;
        // Short pulls: after a reconnect a lost pull request is noticed within seconds, not 30 s.
        const messages = await consumer.consume({
          max_messages: 256,
          expires: 5_000,
          // A deleted consumer ends the loop, which re-creates it; by default nats.js would wait
          // for someone else to re-create it, consuming nothing and logging nothing meanwhile.
          abort_on_missing_resource: true,
          callback: (msg) => {
            waiting.push(msg);
            wake?.();
          },
        });
        this.active = messages;
        let ended = false;
        const closed = messages.closed().then((error) => {
          ended = true;
          wake?.();
          return error;
        });
        const inHand = setInterval(
          () => {
            if (handling) {
              handling.working();
              this.reportLagFromServer();
            }
            for (const msg of waiting) msg.working();
          },
          Math.max(100, this.ackWaitMs / 2),
        );
        try {
          if (this.stopped) messages.stop();
          while (!this.stopped) {
            handling = waiting.shift();
            if (handling) {
              failures = 0;
              await this.process(handling);
            } else if (ended) {
              break;
            } else {
              await new Promise<void>((resolve) => (wake = resolve));
              wake = undefined;
            }
          }
        } finally {
          clearInterval(inHand);
          // Stopping: what is left goes back to the server now, for another instance (or the next start).
          for (const msg of waiting.splice(0)) {
            try {
              msg.nak();
            } catch {
              // The connection is gone: the server sends it again once its ack wait runs out.
            }
          }
        }
        // Stopped (stop() stops the messages too) or ended by nats.js: with an error, start afresh.
        const error = await closed;
        if (error) throw error;
      } catch (error) {
        failures += 1;
        this.logger.warn(
          { err: error, consumer: this.durable, failures },
          'consumer loop interrupted; re-establishing',
        );
        if (!this.stopped) {
          // The consumer may have been deleted (stream reset): recreate it before consuming again.
          await this.ensureConsumer().catch(() => undefined);
        }
      }
      if (!this.stopped) await delay(Math.min(100 * 2 ** Math.min(failures, 6), 5000));
    }
  }

  private async process(msg: JsMsg): Promise<void> {
    const delivery: Delivery = {
      subject: this.naming.canonical(msg.subject),
      streamSequence: msg.seq,
      deliveryCount: msg.info.deliveryCount,
      stream: msg.info.stream,
    };
    // Settled inside the span, so the lines a retry or a parking logs carry its trace.
    await inSpan(
      `consume ${delivery.subject}`,
      'consumer',
      { 'messaging.destination.name': msg.subject, 'messaging.consumer.group.name': this.durable },
      async (span) => {
        try {
          // The loop tells the server the message is in hand while the handler runs (see loop).
          await this.handler(decodeEnvelope(msg.data, this.catalogue), delivery);
          msg.ack();
          this.attempts.delete(msg.seq);
        } catch (error) {
          markSpanFailed(span, error);
          const attempts = (this.attempts.get(msg.seq) ?? 0) + 1;
          // The server's count, as a loose backstop for attempts this runner did not see (another
          // instance's, or before a restart).
          const attemptsLeft =
            attempts < this.maxDeliver && delivery.deliveryCount < DELIVERY_BACKSTOP * this.maxDeliver;
          if (
            errorKind(error) === 'transient' &&
            (attemptsLeft || (this.spec.untilApplied && isInfraFailure(error)))
          ) {
            if (!attemptsLeft) {
              this.logger.warn(
                { err: error, consumer: this.durable, seq: msg.seq, deliveries: delivery.deliveryCount },
                'transient failure; retrying until applied',
              );
            }
            const base = this.spec.backoffBaseMs ?? 200;
            const exponent = Math.min(attempts - 1, 30);
            const cap = this.spec.backoffMaxMs ?? (this.spec.untilApplied ? 2_000 : 30_000);
            // Bounded: an entry of a message another instance took over is not kept for ever.
            if (this.attempts.size >= MAX_TRACKED_ATTEMPTS) this.attempts.clear();
            this.attempts.set(msg.seq, attempts);
            msg.nak(Math.min(base * 2 ** exponent, cap));
          } else {
            this.attempts.delete(msg.seq);
            await this.park(msg, error);
          }
        }
      },
      extractTraceContext(msg.headers),
    );
    this.observer?.pending(this.durable, msg.info.pending);
  }

  /** The lag as the server counts it now: not yet delivered plus delivered and not yet acked. */
  private reportLagFromServer(): void {
    if (!this.observer) return;
    this.jsm.consumers.info(this.streamName, this.durable).then(
      (info) => this.observer?.pending(this.durable, info.num_pending + info.num_ack_pending),
      () => undefined, // the next tick or message reports it
    );
  }

  private async park(msg: JsMsg, error: unknown): Promise<void> {
    const body = toErrorBody(error);
    try {
      const { duplicate } = await parkDeadLetter(
        this.js,
        this.naming,
        deadLetterOf(msg, this.spec.service, this.durable, body),
      );
      // The letter carries what is safe to show; the log, the error itself (a bug's message and
      // stack, an outage's cause), so that an operator can tell the two apart.
      this.logger.error(
        {
          err: error,
          consumer: this.durable,
          seq: msg.seq,
          error: body,
          ...(duplicate ? { duplicate } : {}),
        },
        'message parked on the DLQ',
      );
      // Parked before (a redelivery after a crash between park and term): counted then.
      if (!duplicate) this.observer?.parked(this.durable);
      // Without a reason: nats-server 2.9 takes `+TERM <reason>` for an unknown ack and ignores it,
      // so the message would be delivered again after every ack wait. The reason is in the letter.
      msg.term();
    } catch (parkError) {
      // Not parked means not done: leave it for redelivery rather than lose it.
      this.logger.error(
        { err: parkError, consumer: this.durable, seq: msg.seq },
        'could not park message; will retry',
      );
      msg.nak(1000);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
