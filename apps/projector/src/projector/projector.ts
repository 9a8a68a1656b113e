import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { type Catalogue, type Naming } from '@bifrost/contracts';
import { deadLetterOf, inBatchSpan, parkDeadLetter } from '@bifrost/messaging';
import { loadCheckpoint } from '@bifrost/persistence';
import {
  describeSkipped,
  describeStreamGap,
  envelopeIdOf,
  firstHeld,
  skippedRanges,
  streamGap,
  type SkippedRange,
  type StreamGap,
} from './stream-gap';
import { type DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { holdsEntry, type ChainHead } from '../audit/audit-chain';
import { PinWriter, sameEntry, type AuditPins } from '../audit/audit-pins';
import { APP_ROLE } from '../migrations/1732300000000-audit-log';
import { type ProjectedStream } from '../read-models/projection';
import {
  commitBatch,
  commitRefused,
  prepareMessage,
  type BatchResult,
  type CommitMessages,
  type PreparedMessage,
} from './batch';
import { commitBisecting, isDataError } from './bisect';
import { type ProjectorMetrics } from './projector.metrics';

export const PROJECTOR_SERVICE = 'projector';
/** Session advisory lock key (hashed) that makes one projector instance the writer. */
export const WRITER_LOCK = 'bifrost.projector.writer';
export const PROJECTED_STREAMS: readonly ProjectedStream[] = ['events', 'decisions'];

export interface ProjectorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ProjectorOptions {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly naming: Naming;
  readonly catalogue: Catalogue;
  readonly dataSource: DataSource;
  /** Where the entry the audit log must hold outlives the process (ADR 0019). */
  readonly pins: AuditPins;
  readonly logger: ProjectorLogger;
  readonly metrics?: ProjectorMetrics;
  /** Most messages per transaction. */
  readonly batchSize?: number;
  /** How often a standby tries the writer lock. */
  readonly lockPollMs?: number;
  /** How long an idle writer waits before it checks its connection and refreshes lag. */
  readonly idleMs?: number;
  readonly ackWaitMs?: number;
}

interface StreamPlan {
  readonly key: ProjectedStream;
  readonly name: string;
  readonly durable: string;
}

interface Delivered {
  readonly plan: StreamPlan;
  readonly msg: JsMsg;
}

interface Item {
  readonly delivered: Delivered;
  readonly message: PreparedMessage;
}

interface PendingBatch {
  readonly batch: readonly Delivered[];
  readonly started: bigint;
  readonly prepared: Promise<PreparedMessage[]>;
}

/**
 * Messages prepared between two yields to the event loop: small, because each reply of the batch
 * transaction in flight waits for the slice being prepared (100 cost ~10 % throughput).
 */
const PREPARE_SLICE = 25;

/**
 * The projector's writer loop. Whoever holds the writer lock (a session advisory lock on a
 * dedicated connection, which also carries every batch transaction, so a writer that loses its
 * connection loses lock and writes together) re-creates the durable consumers at checkpoint + 1,
 * and then turns whatever has arrived from both streams into one transaction at a time: audit
 * rows, read models and checkpoints commit together and only then are the messages acked.
 */
export class Projector {
  private stopped = false;
  private done?: Promise<void>;
  private wake?: () => void;
  private buffer: Delivered[] = [];
  private caughtUpOnce = false;
  private writing = false;
  private writerPidValue?: number;
  /** Why the projector does not go on (a gap in a stream), until the next session finds none. */
  private blocked?: string;
  /** The entry the audit log must hold: see {@link pinnedEntry}. */
  private pinned?: ChainHead;
  /** The pinned entry found missing last, logged once. */
  private alteredLogged?: ChainHead;
  private readonly checkpoints = new Map<string, number>();
  private readonly streamLast = new Map<string, number>();
  /**
   * Per stream name, when the stream stored the message at the writer's position (epoch ms): the
   * last one it applied or, before it applied any this session, the first one waiting.
   */
  private readonly positionStoredAt = new Map<string, number>();
  private readonly plans: StreamPlan[];
  private readonly batchSize: number;
  private readonly pinWriter: PinWriter;

  constructor(private readonly options: ProjectorOptions) {
    this.batchSize = options.batchSize ?? 1000;
    this.pinWriter = new PinWriter(options.pins, (error, entry) =>
      options.logger.warn(
        { err: error, entry },
        'could not store the pinned audit log entry; the one stored before stays until the next commit',
      ),
    );
    this.plans = PROJECTED_STREAMS.map((key) => ({
      key,
      name: options.naming.streams[key].name,
      durable: options.naming.consumerName(PROJECTOR_SERVICE, key),
    }));
    options.metrics?.lagSecondsFrom(() => this.lagSeconds());
  }

  start(): void {
    this.done ??= this.run();
  }

  /** Finishes the batch in flight, then lets go of consumers and the writer lock. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.done;
    await this.pinWriter.flush();
  }

  /** Ready = this instance is the writer and has caught up with the streams once since it started. */
  readiness(): { ok: boolean; detail?: string } {
    if (this.blocked) return { ok: false, detail: this.blocked };
    if (!this.writing) return { ok: false, detail: 'standby: waiting for the writer lock' };
    if (!this.caughtUpOnce) return { ok: false, detail: 'catching up with the streams' };
    return { ok: true };
  }

  /**
   * The audit log entry the log must hold: the newest row of the writer's last commit, kept while
   * every commit after it finds the log ending at it or still holding it, and stored in the
   * snapshot bucket so that the next writer starts from it (ADR 0019). A commit that finds
   * otherwise (the newest rows deleted, or the log rewritten, behind the writer or while none ran)
   * keeps the earlier entry, so that each verification reports the log TRUNCATED or REWRITTEN
   * against it until an operator accepts the log as it is (`bifrost-audit accept`; docs/projector.md
   * "Audit log verification"). Undefined until the first commit or a stored entry.
   */
  pinnedEntry(): ChainHead | undefined {
    return this.pinned && this.pinned.seq > 0 ? this.pinned : undefined;
  }

  /** Last applied stream sequence per stream name. */
  get applied(): ReadonlyMap<string, number> {
    return this.checkpoints;
  }

  get isWriter(): boolean {
    return this.writing;
  }

  /** Backend pid of the writer connection (operators and tests terminate it to force a failover). */
  get writerPid(): number | undefined {
    return this.writerPidValue;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const session = await this.acquire();
      if (!session) break;
      try {
        await this.project(session);
        failures = 0;
      } catch (error) {
        failures += 1;
        this.options.logger.warn(
          { err: error, failures },
          'projector session failed; starting over from the checkpoints',
        );
      } finally {
        await this.release(session);
      }
      if (failures > 0) await this.pause(Math.min(100 * 2 ** failures, 5000));
    }
  }

  private async acquire(): Promise<QueryRunner | undefined> {
    while (!this.stopped) {
      const runner = this.options.dataSource.createQueryRunner();
      try {
        for (;;) {
          const [row] = (await runner.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [
            WRITER_LOCK,
          ])) as {
            locked: boolean;
          }[];
          if (row?.locked) break;
          this.standingBy();
          if (this.stopped) {
            await runner.release();
            return undefined;
          }
          await this.pause(this.options.lockPollMs ?? 1000);
        }
        // The writer's own rights are INSERT/SELECT on the audit log (docs/projector.md "Grants").
        await runner.query(`SET ROLE ${APP_ROLE}`);
        const [pid] = (await runner.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
        this.writerPidValue = pid?.pid;
        this.options.logger.info({ writerPid: this.writerPidValue }, 'projector holds the writer lock');
        return runner;
      } catch (error) {
        this.options.logger.warn({ err: error }, 'could not take the writer lock; retrying');
        await runner.release().catch(() => undefined);
        await this.pause(this.options.lockPollMs ?? 1000);
      }
    }
    return undefined;
  }

  private async release(runner: QueryRunner): Promise<void> {
    this.writing = false;
    this.writerPidValue = undefined;
    this.options.metrics?.standby(this.plans.map((plan) => plan.durable));
    // On a healthy connection the lock must go before the connection returns to the pool; on a
    // broken one the server has dropped the lock with the session already.
    await runner.query('RESET ROLE').catch(() => undefined);
    await runner.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await runner.release().catch(() => undefined);
  }

  private async project(runner: QueryRunner): Promise<void> {
    const { js } = this.options;
    for (const plan of this.plans) {
      this.checkpoints.set(plan.name, await loadCheckpoint(runner.manager, plan.durable, plan.name));
    }
    // The entry an earlier writer (or this one, in an earlier session) pinned, or an operator accepted.
    this.pinned = (await this.pinWriter.load()).entry ?? this.pinned;
    for (const plan of this.plans) {
      const { state } = await this.options.jsm.streams.info(plan.name);
      const checkpoint = this.checkpointOf(plan.name);
      this.assertNoGap(
        plan,
        streamGap(checkpoint, state) ?? (await this.replacement(plan, checkpoint, state, runner)),
      );
      this.streamLast.set(plan.name, state.last_seq);
      await this.notePositionAtTakeover(plan, checkpoint, state.last_seq);
    }
    this.blocked = undefined;
    const targets = new Map(this.streamLast);
    const subscriptions: ConsumerMessages[] = [];
    const consumerLost: { error?: Error } = {};
    this.buffer = [];
    try {
      for (const plan of this.plans) {
        await this.recreateConsumer(plan, this.checkpointOf(plan.name) + 1);
        const consumer = await js.consumers.get(plan.name, plan.durable);
        const messages = await consumer.consume({
          max_messages: this.batchSize,
          // Deleted under this writer means: the next writer took the lock and re-creates it under the
          // same name. By default nats.js would resume pulling from that one, taking its messages.
          abort_on_missing_resource: true,
          callback: (msg) => {
            this.buffer.push({ plan, msg });
            this.noteDelivered(plan, msg);
            this.wake?.();
          },
        });
        // Resolves without an error when this session stops it.
        void messages.closed().then((error) => {
          if (!error) return;
          consumerLost.error ??= new Error(
            `consumer ${plan.durable} went away under this writer (${error.message}): another writer re-created it, or it was deleted`,
          );
          this.wake?.();
        });
        subscriptions.push(messages);
      }
      this.writing = true;
      this.options.metrics?.writer.set(1);
      // The lag as of the takeover, before the first batch (or idle second) refreshes it.
      this.publishLag();
      this.noteCaughtUp(targets);
      let next: PendingBatch | undefined;
      while (!this.stopped) {
        if (consumerLost.error) throw consumerLost.error;
        if (this.buffer.length === 0 && !next) {
          await this.pause(this.options.idleMs ?? 1000);
          if (this.buffer.length === 0 && !this.stopped) {
            // Idle: prove the writer connection (and so the lock) is still there, and refresh lag.
            await runner.query('SELECT 1');
            await this.refreshStreamLast();
            this.publishLag();
          }
          continue;
        }
        // The next batch is decoded and canonicalised while this one's transaction is in Postgres.
        const current = next ?? this.takeBatch();
        next = undefined;
        const committing = inBatchSpan(
          'project batch',
          { 'messaging.batch.message_count': current.batch.length },
          current.batch.map(({ msg }) => msg.headers),
          () => this.processBatch(runner, current),
        );
        if (this.buffer.length > 0) next = this.takeBatch();
        await committing;
        this.noteCaughtUp(targets);
      }
    } finally {
      for (const messages of subscriptions) messages.stop();
      // Unacked messages come back after ack_wait; a new session re-creates the consumers anyway.
      this.buffer = [];
    }
  }

  private takeBatch(): PendingBatch {
    const batch = this.buffer.splice(0, this.batchSize);
    return { batch, started: process.hrtime.bigint(), prepared: this.prepareBatch(batch) };
  }

  /** Prepares in slices, yielding between them so that a transaction in flight keeps its pace. */
  private async prepareBatch(batch: readonly Delivered[]): Promise<PreparedMessage[]> {
    const { naming, catalogue } = this.options;
    const prepared: PreparedMessage[] = [];
    for (let i = 0; i < batch.length; i += PREPARE_SLICE) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const { plan, msg } of batch.slice(i, i + PREPARE_SLICE)) {
        prepared.push(
          prepareMessage(
            {
              stream: plan.key,
              streamName: plan.name,
              streamSeq: msg.seq,
              subject: naming.canonical(msg.subject),
              data: msg.data,
            },
            catalogue,
          ),
        );
      }
    }
    return prepared;
  }

  private async processBatch(runner: QueryRunner, pending: PendingBatch): Promise<void> {
    const { batch, started } = pending;
    const { metrics } = this.options;
    const prepared = await pending.prepared;
    const raws = prepared.map((message) => message.raw);
    const deleted = await this.provenDeleted(skippedRanges(this.checkpoints, raws));
    const items = batch.map((delivered, i): Item => ({ delivered, message: prepared[i] as PreparedMessage }));
    // Parked before the commit that moves the checkpoint past them: a crash in between parks again,
    // which the DLQ's msg id dedupes; parking after the commit could be lost for good. Messages
    // parked only, first; those recorded and parked (ENVELOPE.UNKNOWN_TYPE, INVALID_DATA) inside
    // the commit that records them, once Postgres took their rows: one whose envelope id the log
    // holds for other content fails that commit, and its letter says so (AUDIT.ID_REUSED) instead
    // of claiming it recorded (the DLQ keeps the first letter of a stream position).
    const unparked = (item: Item) =>
      item.message.problem !== undefined &&
      item.message.raw.streamSeq > this.checkpointOf(item.message.raw.streamName);
    for (const item of items) if (item.message.kind === 'park' && unparked(item)) await this.park(item);
    const parkRecorded = async (part: readonly Item[]) => {
      for (const item of part) if (item.message.kind === 'record' && unparked(item)) await this.park(item);
    };
    // A message Postgres refuses would fail every batch it is in: find it, record it as far as
    // Postgres takes it, park it, commit the rest (`commitRefused` says in which order, and why).
    const commit: CommitMessages<BatchResult> = (messages, beforeCommit) =>
      this.commit(runner, messages, deleted, beforeCommit);
    const results = await commitBisecting(
      items,
      (part) =>
        commit(
          part.map((item) => item.message),
          () => parkRecorded(part),
        ),
      isDataError,
      ({ delivered, message }, error) =>
        commitRefused(message, error, commit, (parked) => this.park({ delivered, message: parked })),
    );
    for (const { msg } of batch) msg.ack();

    for (const { plan, msg } of batch) this.positionStoredAt.set(plan.name, msg.info.timestampNanos / 1e6);
    if (metrics) {
      const total = (count: 'recorded' | 'skipped' | 'duplicates') =>
        results.reduce((n, result) => n + result[count], 0);
      metrics.batchSize.observe(batch.length);
      metrics.batchLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
      metrics.messages.inc({ outcome: 'recorded' }, total('recorded'));
      metrics.messages.inc({ outcome: 'skipped' }, total('skipped'));
      metrics.messages.inc({ outcome: 'duplicate' }, total('duplicates'));
      metrics.messages.inc(
        { outcome: 'deleted' },
        deleted.reduce((n, range) => n + range.to - range.from + 1, 0),
      );
    }
    this.publishLag();
  }

  /** One transaction; the checkpoints in memory move once it has committed. */
  private async commit(
    runner: QueryRunner,
    messages: readonly PreparedMessage[],
    deleted: readonly SkippedRange[],
    beforeCommit?: () => Promise<void>,
  ): Promise<BatchResult> {
    let result: BatchResult;
    let pinned: ChainHead;
    await runner.startTransaction();
    try {
      result = await commitBatch(runner.manager, (name) => this.durableOf(name), messages, {
        checkpoints: this.checkpoints,
        deleted,
      });
      pinned = await this.nextPinned(runner.manager, result);
      await beforeCommit?.();
      await runner.commitTransaction();
    } catch (error) {
      await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
    for (const [name, sequence] of result.checkpoints) this.checkpoints.set(name, sequence);
    if (!sameEntry(pinned, this.pinned)) this.pinWriter.offer(pinned);
    this.pinned = pinned;
    return result;
  }

  /**
   * The entry to pin once this batch commits: its head, when the batch linked onto the entry
   * pinned before or the log still holds that entry (another writer appended meanwhile, or a
   * commit went through though its reply was lost), or holds an entry an operator accepted since
   * (`bifrost-audit accept`, stored in the bucket); otherwise the entry pinned before.
   */
  private async nextPinned(manager: EntityManager, { linkedOnto, head }: BatchResult): Promise<ChainHead> {
    const pinned = this.pinned;
    if (!pinned || pinned.seq === 0) return head;
    if (sameEntry(linkedOnto, pinned) || (await holdsEntry(manager, pinned))) return head;
    const stored = await this.options.pins.load();
    if (stored.acceptedAt && stored.entry && (await holdsEntry(manager, stored.entry))) {
      this.pinWriter.adopt(stored);
      this.options.logger.info(
        { accepted: stored.entry, acceptedAt: stored.acceptedAt, pinned },
        'the audit log was accepted as it is: verifying it against the accepted entry from now on',
      );
      return head;
    }
    if (this.alteredLogged !== pinned) {
      this.alteredLogged = pinned;
      this.options.logger.error(
        { pinned, linkedOnto },
        'the audit log no longer holds the pinned entry: its newest rows were deleted or rewritten (bifrost-audit accept, once explained)',
      );
    }
    return pinned;
  }

  private async park({ delivered, message }: Item): Promise<void> {
    const { naming, js, metrics } = this.options;
    if (!message.problem) return;
    const letter = deadLetterOf(delivered.msg, PROJECTOR_SERVICE, delivered.plan.durable, message.problem);
    const { duplicate } = await parkDeadLetter(js, naming, letter);
    // Parked already: a batch retried after a failed commit parks its letters again (deduped).
    if (duplicate) return;
    this.options.logger.warn(
      {
        stream: message.raw.streamName,
        seq: message.raw.streamSeq,
        error: letter.error,
        recorded: message.kind === 'record',
      },
      'message parked on the DLQ',
    );
    metrics?.messages.inc({ outcome: 'parked' });
    metrics?.consumers.parked(delivered.plan.durable);
  }

  /**
   * `ranges`, which a batch skips, once the streams show they deleted them message by message
   * (`nats stream rmm`; the consumer skips those too), so the batch may jump over them. Anything
   * else stops the batch before it is parked or committed: messages removed below the stream's
   * first sequence block the projector as at the start of a session ("Gaps in a stream"), and
   * messages the stream still holds were pulled by another client, so the session starts over from
   * the checkpoints and fetches them again.
   */
  private async provenDeleted(ranges: readonly SkippedRange[]): Promise<readonly SkippedRange[]> {
    for (const range of ranges) {
      const plan = this.planOf(range.streamName);
      const { state } = await this.options.jsm.streams.info(plan.name, { deleted_details: true });
      this.assertNoGap(plan, streamGap(this.checkpointOf(plan.name), state));
      const held = firstHeld(range, state.deleted ?? []);
      if (held !== undefined) throw new Error(describeSkipped(range, held));
      this.options.logger.warn(
        { stream: range.streamName, from: range.from, to: range.to },
        describeSkipped(range),
      );
    }
    return ranges;
  }

  /** The last sequence of `streamName` applied (committed); 0 before the first. */
  private checkpointOf(streamName: string): number {
    return this.checkpoints.get(streamName) ?? 0;
  }

  private planOf(streamName: string): StreamPlan {
    const plan = this.plans.find((p) => p.name === streamName);
    if (!plan) throw new Error(`not a projected stream: ${streamName}`);
    return plan;
  }

  private durableOf(streamName: string): string {
    return this.planOf(streamName).durable;
  }

  /**
   * The Postgres checkpoint is the truth; the consumer is only the delivery pipe. Starting it again
   * at checkpoint + 1 on every takeover delivers in stream order, with nothing left pending from a
   * previous writer that could come back out of order later.
   */
  private async recreateConsumer(plan: StreamPlan, startSeq: number): Promise<void> {
    const { jsm } = this.options;
    await jsm.consumers.delete(plan.name, plan.durable).catch(() => undefined);
    await jsm.consumers.add(plan.name, {
      durable_name: plan.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: startSeq,
      ack_wait: (this.options.ackWaitMs ?? 120_000) * 1_000_000,
      max_ack_pending: this.batchSize * 4,
      max_deliver: -1,
    });
  }

  /**
   * Another instance holds the writer lock: a gap this one found is that one's to report now (its
   * `bifrost_projector_blocked` would otherwise stay 1 after the writer went on, and the alert, which
   * takes the maximum over replicas, would keep firing).
   */
  private standingBy(): void {
    if (this.blocked === undefined) return;
    this.blocked = undefined;
    this.options.metrics?.blocked.reset();
  }

  /** Refuses to resume a stream at checkpoint + 1 when that would skip messages without a trace. */
  private assertNoGap(plan: StreamPlan, gap: StreamGap | undefined): void {
    this.options.metrics?.blocked.set({ stream: plan.key }, gap ? 1 : 0);
    if (!gap) return;
    const checkpoint = this.checkpointOf(plan.name);
    this.blocked = describeStreamGap(plan.name, checkpoint, gap);
    this.options.logger.error({ stream: plan.name, checkpoint, gap }, this.blocked);
    throw new Error(this.blocked);
  }

  /**
   * A stream recreated and refilled past the checkpoint shows no gap by its sequences: compare the
   * last message the audit log recorded from it (up to the checkpoint) with what the stream holds
   * there now. Nothing to compare once retention or a purge removed that message.
   */
  private async replacement(
    plan: StreamPlan,
    checkpoint: number,
    state: { first_seq: number },
    runner: QueryRunner,
  ): Promise<StreamGap | undefined> {
    const [row] = (await runner.query(
      `SELECT stream_seq, event_id FROM audit_log WHERE stream = $1 AND stream_seq <= $2
       ORDER BY stream_seq DESC LIMIT 1`,
      [plan.name, checkpoint],
    )) as { stream_seq: number; event_id: string }[];
    if (!row || row.stream_seq < state.first_seq) return undefined;
    const seq = row.stream_seq;
    const held = await this.options.jsm.streams.getMessage(plan.name, { seq });
    if (!held) return undefined;
    const found = envelopeIdOf(held.data);
    return found === row.event_id ? undefined : { kind: 'replaced', seq, recorded: row.event_id, found };
  }

  private async refreshStreamLast(): Promise<void> {
    for (const plan of this.plans) {
      const info = await this.options.jsm.streams.info(plan.name);
      this.streamLast.set(plan.name, info.state.last_seq);
    }
  }

  /**
   * A message came in: the stream's end moves on, and when nothing was waiting before, the writer's
   * position in time is this message's (a caught-up writer whose next commit hangs shows lag).
   */
  private noteDelivered(plan: StreamPlan, msg: JsMsg): void {
    if ((this.streamLast.get(plan.name) ?? 0) <= this.checkpointOf(plan.name))
      this.positionStoredAt.set(plan.name, msg.info.timestampNanos / 1e6);
    const last = msg.seq + msg.info.pending;
    if (last > (this.streamLast.get(plan.name) ?? 0)) this.streamLast.set(plan.name, last);
  }

  /** At takeover: when the stream stored the first message waiting, if any (unknown if it is gone). */
  private async notePositionAtTakeover(plan: StreamPlan, checkpoint: number, last: number): Promise<void> {
    this.positionStoredAt.delete(plan.name);
    if (last <= checkpoint) return;
    const held = await this.options.jsm.streams
      .getMessage(plan.name, { seq: checkpoint + 1 })
      .catch(() => null);
    if (held) this.positionStoredAt.set(plan.name, held.time.getTime());
  }

  /**
   * How far behind the writer is in time, per stream: while messages wait, the age of the message at
   * its position (the oldest waiting one was stored at or after it); 0 when caught up or not the
   * writer. Read at each scrape, so a writer stuck on a batch shows its lag growing.
   */
  private lagSeconds(): Map<ProjectedStream, number> {
    const lag = new Map<ProjectedStream, number>();
    const now = Date.now();
    for (const plan of this.plans) {
      const waiting = (this.streamLast.get(plan.name) ?? 0) > this.checkpointOf(plan.name);
      const storedAt = this.positionStoredAt.get(plan.name);
      lag.set(
        plan.key,
        this.writing && waiting && storedAt !== undefined ? Math.max(0, now - storedAt) / 1000 : 0,
      );
    }
    return lag;
  }

  private noteCaughtUp(targets: ReadonlyMap<string, number>): void {
    if (this.caughtUpOnce) return;
    const behind = this.plans.some((plan) => this.checkpointOf(plan.name) < (targets.get(plan.name) ?? 0));
    if (behind) return;
    this.caughtUpOnce = true;
    this.options.logger.info({ checkpoints: Object.fromEntries(this.checkpoints) }, 'projector caught up');
  }

  private publishLag(): void {
    const { metrics } = this.options;
    if (!metrics) return;
    for (const plan of this.plans) {
      const applied = this.checkpointOf(plan.name);
      const lag = Math.max(0, (this.streamLast.get(plan.name) ?? 0) - applied);
      metrics.lastApplied.set({ stream: plan.key }, applied);
      metrics.lag.set({ stream: plan.key }, lag);
      // The same lag under the series every service reports for its durable consumers.
      metrics.consumers.pending(plan.durable, lag);
    }
  }

  /** Sleeps up to `ms`, cut short by new messages or by stop(). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
