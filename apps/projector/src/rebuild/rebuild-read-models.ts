import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { type Catalogue, type ErrorBody, type Naming } from '@bifrost/contracts';
import { stopWhenLost } from '@bifrost/messaging';
import { loadCheckpoint } from '@bifrost/persistence';
import { type DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { APP_ROLE } from '../migrations/1732300000000-audit-log';
import { prepareMessage, type RawMessage } from '../projector/batch';
import { commitBisecting, isDataError } from '../projector/bisect';
import { namespaceMismatch } from '../audit/audited-streams';
import { PROJECTED_STREAMS, PROJECTOR_SERVICE, WRITER_LOCK } from '../projector/projector';
import { type ProjectedMessage } from '../read-models/projection';
import { applyProjections, readModelTables } from '../read-models/registry';

export interface RebuildOptions {
  readonly dataSource: DataSource;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly naming: Naming;
  readonly catalogue: Catalogue;
  /** How long to wait for the writer lock (a running projector holds it) before giving up. */
  readonly lockWaitMs?: number;
  readonly chunkSize?: number;
  /**
   * Told of each message whose read-model rows Postgres refuses: left out of the read models, as the
   * live projector left it out (`PROJECTION.REFUSED`), while the rest of the rebuild goes on.
   */
  readonly onRefused?: (message: ProjectedMessage, error: unknown) => void;
  /**
   * Told of each message the audit log holds that this build does not project (a type it does not
   * know, data its schema refuses): a projector of an older build may have applied it, this one
   * leaves it out. Nothing says so otherwise: the live projector parked it when it saw it, or did not.
   */
  readonly onNotProjected?: (raw: RawMessage, problem: ErrorBody) => void;
}

/**
 * Empties every read model and re-applies both streams up to the projector's checkpoints, in one
 * transaction: readers wait for it (TRUNCATE locks the tables), and a failed rebuild changes
 * nothing. The audit log is never touched. A message is re-applied only if the audit log holds it
 * at that very stream position, so the rebuild applies exactly what the live projector applied.
 */
export async function rebuildReadModels(options: RebuildOptions): Promise<Record<string, number>> {
  const runner = options.dataSource.createQueryRunner();
  try {
    await takeWriterLock(runner, options.lockWaitMs ?? 10_000);
    await runner.query(`SET ROLE ${APP_ROLE}`);
    await assertAuditedStreams(runner, options.naming);
    await runner.startTransaction();
    try {
      await runner.query(`TRUNCATE ${readModelTables.join(', ')}`);
      const applied: Record<string, number> = {};
      for (const key of PROJECTED_STREAMS) {
        const name = options.naming.streams[key].name;
        const checkpoint = await loadCheckpoint(
          runner.manager,
          options.naming.consumerName(PROJECTOR_SERVICE, key),
          name,
        );
        applied[name] = await replay(runner.manager, options, key, name, checkpoint);
      }
      await runner.commitTransaction();
      return applied;
    } catch (error) {
      await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  } finally {
    await runner.query('RESET ROLE').catch(() => undefined);
    await runner.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await runner.release();
  }
}

/**
 * Per stream, how many messages the audit log holds that the stream no longer does (aged out past
 * its retention, or purged): a rebuild cannot bring back their read-model rows. Streams with none
 * are left out.
 */
export async function auditedBeyondStreams(
  options: Pick<RebuildOptions, 'dataSource' | 'jsm' | 'naming'>,
): Promise<Record<string, number>> {
  const beyond: Record<string, number> = {};
  for (const key of PROJECTED_STREAMS) {
    const name = options.naming.streams[key].name;
    const { state } = await options.jsm.streams.info(name);
    const [row] = await options.dataSource.query<{ n: string }[]>(
      'SELECT count(*) AS n FROM audit_log WHERE stream = $1 AND stream_seq < $2',
      [name, state.first_seq],
    );
    const count = Number(row?.n ?? 0);
    if (count > 0) beyond[name] = count;
  }
  return beyond;
}

/**
 * Refuses to rebuild from streams the audit log has never heard of while it holds others': a
 * wrong or missing namespace would otherwise empty every read model and fill none (no checkpoint,
 * nothing to replay) and report success.
 */
async function assertAuditedStreams(runner: QueryRunner, naming: Naming): Promise<void> {
  const problem = await namespaceMismatch((sql, params) => runner.query(sql, params), naming);
  if (problem) throw new Error(problem);
}

async function takeWriterLock(runner: QueryRunner, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const [row] = (await runner.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [
      WRITER_LOCK,
    ])) as {
      locked: boolean;
    }[];
    if (row?.locked) return;
    if (Date.now() > deadline) {
      throw new Error('the writer lock is held by a running projector: stop it, then rebuild');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Re-applies the stream up to `checkpoint`, a read at a time. A read that lost messages on the way
 * (its connection cut while they were in flight) stops where they went missing, and the next goes on
 * from the last message taken: the rebuild neither leaves them out nor waits for them for ever.
 */
async function replay(
  manager: EntityManager,
  options: RebuildOptions,
  key: RawMessage['stream'],
  name: string,
  checkpoint: number,
): Promise<number> {
  if (checkpoint === 0) return 0;
  const info = await options.jsm.streams.info(name);
  if (info.state.messages === 0 || info.state.first_seq > checkpoint) return 0;
  let applied = 0;
  let fromSequence = 1;
  for (;;) {
    const read = await replayUntilLost(manager, options, key, name, checkpoint, fromSequence);
    applied += read.applied;
    if (read.done) return applied;
    fromSequence = read.last + 1;
  }
}

/**
 * `replay` with one ordered consumer from `fromSequence`, up to the checkpoint or to the first
 * message lost on the way: nats.js makes an ordered consumer again (a `reset`) when a message
 * arrives out of order, and nothing notices lost messages with none after them;
 * {@link stopWhenLost} stops the read on either.
 */
async function replayUntilLost(
  manager: EntityManager,
  options: RebuildOptions,
  key: RawMessage['stream'],
  name: string,
  checkpoint: number,
  fromSequence: number,
): Promise<{ applied: number; last: number; done: boolean }> {
  const consumer = await options.js.consumers.get(name, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: fromSequence,
  });
  const chunkSize = options.chunkSize ?? 1000;
  // Short pulls: idle heartbeats every 2.5 s, so a loss at the end of the read is seen within seconds.
  const messages = await consumer.consume({ max_messages: chunkSize, expires: 5_000 });
  let delivered = 0;
  stopWhenLost(messages, () => delivered);
  let chunk: RawMessage[] = [];
  let applied = 0;
  let last = fromSequence - 1;
  let done = false;
  try {
    for await (const msg of messages) {
      delivered = msg.info.deliverySequence;
      last = msg.seq;
      if (msg.seq <= checkpoint) {
        chunk.push({
          stream: key,
          streamName: name,
          streamSeq: msg.seq,
          subject: options.naming.canonical(msg.subject),
          data: msg.data,
        });
      }
      // Done at the checkpoint, or at the stream's last message when those up to the checkpoint are
      // gone (deleted or never there): waiting for the checkpoint would hold the TRUNCATE locks forever.
      done = msg.seq >= checkpoint || msg.info.pending === 0;
      if (chunk.length >= chunkSize || done) {
        applied += await applyChunk(manager, options, chunk);
        chunk = [];
      }
      if (done) break;
    }
  } finally {
    messages.stop();
  }
  // Stopped on a loss: what was taken before it is applied, the next read starts after it.
  applied += await applyChunk(manager, options, chunk);
  return { applied, last, done };
}

async function applyChunk(
  manager: EntityManager,
  options: RebuildOptions,
  chunk: readonly RawMessage[],
): Promise<number> {
  const prepared = chunk.map((raw) => prepareMessage(raw, options.catalogue));
  const recorded = prepared.flatMap((message) => (message.kind === 'record' ? [message] : []));
  if (recorded.length === 0) return 0;
  const logged = await manager.query<{ event_id: string; stream: string; stream_seq: string }[]>(
    'SELECT event_id, stream, stream_seq FROM audit_log WHERE event_id = ANY($1::text[])',
    [recorded.map((message) => message.entry.eventId)],
  );
  const positions = new Set(logged.map((row) => `${row.event_id}@${row.stream}#${row.stream_seq}`));
  const inLog = recorded.filter((message) =>
    positions.has(`${message.entry.eventId}@${message.raw.streamName}#${message.raw.streamSeq}`),
  );
  for (const message of inLog) if (message.problem) options.onNotProjected?.(message.raw, message.problem);
  const applicable = inLog.flatMap((message): ProjectedMessage[] =>
    message.projected ? [message.projected] : [],
  );
  if (applicable.length === 0) return 0;
  // The live projector recorded a message whose read-model rows Postgres refused, without them: the
  // rebuild leaves them out the same way, each attempt in a savepoint of its one transaction.
  const applied = await commitBisecting(
    applicable,
    async (part) => {
      await manager.query('SAVEPOINT rebuild_part');
      try {
        await applyProjections(manager, part);
      } catch (error) {
        await manager.query('ROLLBACK TO SAVEPOINT rebuild_part').catch(() => undefined);
        throw error;
      }
      await manager.query('RELEASE SAVEPOINT rebuild_part');
      return part.length;
    },
    isDataError,
    (message, error) => {
      options.onRefused?.(message, error);
      return Promise.resolve(0);
    },
  );
  return applied.reduce((n, count) => n + count, 0);
}
