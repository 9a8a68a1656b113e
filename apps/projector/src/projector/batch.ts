import {
  formatIssues,
  validateEnvelope,
  type Catalogue,
  type Envelope,
  type ErrorBody,
} from '@bifrost/contracts';
import { assertJsonDepth, decodeJson, MAX_ENVELOPE_DEPTH } from '@bifrost/messaging';
import { saveCheckpoint } from '@bifrost/persistence';
import { type EntityManager } from 'typeorm';
import {
  canonicalEnvelope,
  insertAuditRows,
  linkEntries,
  readChainHead,
  recordedEventIds,
  reusedEventIds,
  type AuditEntry,
  type ChainHead,
} from '../audit/audit-chain';
import { type ProjectedMessage, type ProjectedStream } from '../read-models/projection';
import { applyProjections, projectedTypes } from '../read-models/registry';
import { EventIdReusedError, isDataError, sqlState } from './bisect';
import { skippedRanges, type SkippedRange } from './stream-gap';
import { impossibleTimestamp } from './timestamps';

/** One message as it came off a stream. */
export interface RawMessage {
  readonly stream: ProjectedStream;
  readonly streamName: string;
  readonly streamSeq: number;
  /** Canonical subject (namespace removed). */
  readonly subject: string;
  readonly data: Uint8Array;
}

/**
 * What the projector does with a message, decided before the transaction:
 * - `record`: an envelope; it gets an audit row, and its read models when `projected` is set;
 *   `problem` is set when the catalogue rejects it (unknown type, bad data) or a timestamp in its
 *   data is no real instant, or once Postgres refused its read-model rows ({@link commitRefused}):
 *   recorded AND parked;
 * - `park`: not even an envelope the log can hold (not JSON, nested deeper than the services
 *   accept, no envelope shape, an occurredAt that
 *   is no real instant, not canonicalisable, an audit row Postgres refuses): parked on the DLQ only.
 */
export type PreparedMessage =
  | {
      readonly kind: 'record';
      readonly raw: RawMessage;
      readonly entry: AuditEntry;
      readonly projected?: ProjectedMessage;
      readonly problem?: ErrorBody;
    }
  | { readonly kind: 'park'; readonly raw: RawMessage; readonly problem: ErrorBody };

const projectable = projectedTypes();

export function prepareMessage(raw: RawMessage, catalogue: Catalogue): PreparedMessage {
  let value: unknown;
  try {
    value = decodeJson(raw.data);
    // As deep as the services' decodeEnvelope accepts, no deeper: hashing is recursive, and an
    // envelope thousands of levels deep would be a row a fresh `bifrost-audit verify` cannot hash.
    assertJsonDepth(value, MAX_ENVELOPE_DEPTH);
  } catch (error) {
    return { kind: 'park', raw, problem: { code: 'PAYLOAD.MALFORMED', message: (error as Error).message } };
  }
  const envelope = validateEnvelope(value);
  if (!envelope.ok) {
    return {
      kind: 'park',
      raw,
      problem: { code: 'ENVELOPE.INVALID', message: `invalid envelope: ${formatIssues(envelope.issues)}` },
    };
  }
  // An occurredAt that is no real instant (the audit row's occurred_at could not hold it) is
  // refused by the envelope schema above: its Timestamp format.
  const canonical = canonicalEnvelope(envelope.value);
  if (!canonical.ok)
    return { kind: 'park', raw, problem: { code: 'AUDIT.UNRECORDABLE', message: canonical.reason } };
  const entry: AuditEntry = {
    eventId: envelope.value.id,
    eventType: envelope.value.type,
    stream: raw.streamName,
    streamSeq: raw.streamSeq,
    occurredAt: envelope.value.occurredAt,
    canonical: canonical.canonical,
  };
  const known = catalogue.check(envelope.value);
  if (!known.ok) {
    return {
      kind: 'record',
      raw,
      entry,
      problem: {
        code: known.code === 'UNKNOWN_TYPE' ? 'ENVELOPE.UNKNOWN_TYPE' : 'ENVELOPE.INVALID_DATA',
        message: known.message,
      },
    };
  }
  // Recorded (the log is what was published) but, like data its schema refuses, kept out of the read models.
  const impossible = impossibleTimestamp(envelope.value.data, 'data');
  if (impossible) {
    return {
      kind: 'record',
      raw,
      entry,
      problem: {
        code: 'ENVELOPE.INVALID_DATA',
        message: `${envelope.value.type} v${envelope.value.version}: ${impossible.path} ${notAnInstant(impossible.value)}`,
      },
    };
  }
  if (!projectable.has(envelope.value.type)) return { kind: 'record', raw, entry };
  const projected: ProjectedMessage = {
    envelope: envelope.value as Envelope,
    subject: raw.subject,
    stream: raw.stream,
    streamSeq: raw.streamSeq,
  };
  return { kind: 'record', raw, entry, projected };
}

/** Commits `messages` in one transaction; `beforeCommit` runs once Postgres took every statement. */
export type CommitMessages<R> = (
  messages: readonly PreparedMessage[],
  beforeCommit?: () => Promise<void>,
) => Promise<R>;

/**
 * Settles a message Postgres refused alone in its transaction (see `isDataError`), so that it no
 * longer holds back its stream:
 * - a `record` message with read models is committed again as its audit row only, and parked
 *   (`PROJECTION.REFUSED`): recorded and parked, like `ENVELOPE.INVALID_DATA`. Its letter is parked
 *   inside that transaction, once Postgres took the audit row and before COMMIT (nothing is
 *   deferred to COMMIT, so only a lost connection or a crash can still undo it). Parked before the
 *   statements, the letter would say PROJECTION.REFUSED also for a message whose audit row Postgres
 *   refuses too, and the DLQ's msg id dedupe would keep that letter instead of the right one; parked
 *   after COMMIT, a crash in between would lose it for good, the checkpoint being past the message.
 *   A crash between letter and COMMIT rolls the row back: the message comes again, takes the same
 *   path, and the DLQ dedupes the second letter by its msg id.
 * - anything else, or a message whose audit row Postgres refuses as well, is parked only
 *   (`AUDIT.ID_REUSED`, `AUDIT.UNRECORDABLE`), before the transaction that moves the checkpoint past
 *   it (a crash in between parks again, deduped the same way).
 */
export async function commitRefused<R>(
  message: PreparedMessage,
  error: unknown,
  commit: CommitMessages<R>,
  park: (message: PreparedMessage) => Promise<void>,
): Promise<R> {
  let refusal = error;
  if (message.kind === 'record' && message.projected && !(error instanceof EventIdReusedError)) {
    const recorded: PreparedMessage = {
      kind: 'record',
      raw: message.raw,
      entry: message.entry,
      problem: {
        code: 'PROJECTION.REFUSED',
        message: `Postgres refused its read-model rows: ${postgresReason(error)}; recorded in the audit log only`,
      },
    };
    try {
      return await commit([recorded], () => park(recorded));
    } catch (auditError) {
      if (!isDataError(auditError)) throw auditError;
      refusal = auditError;
    }
  }
  const parked = parkedOnly(message.raw, refusal);
  await park(parked);
  return commit([parked]);
}

function parkedOnly(raw: RawMessage, error: unknown): PreparedMessage {
  if (error instanceof EventIdReusedError)
    return { kind: 'park', raw, problem: { code: 'AUDIT.ID_REUSED', message: error.message } };
  return {
    kind: 'park',
    raw,
    problem: {
      code: 'AUDIT.UNRECORDABLE',
      message: `Postgres refused the message: ${postgresReason(error)}`,
    },
  };
}

function postgresReason(error: unknown): string {
  const state = sqlState(error);
  return `${(error as Error).message}${state ? ` (SQLSTATE ${state})` : ''}`;
}

function notAnInstant(text: string): string {
  return `"${text}" is not a real instant (no such day, or year 0000): Postgres cannot store it`;
}

export interface BatchPosition {
  /** Last applied stream sequence per stream name (the checkpoints). */
  readonly checkpoints: ReadonlyMap<string, number>;
  /** Sequences the streams deleted before they were applied: the batch may jump over these only. */
  readonly deleted?: readonly SkippedRange[];
}

export interface BatchResult {
  readonly checkpoints: Map<string, number>;
  /** The log's last row when the batch began: what its first row links onto. */
  readonly linkedOnto: ChainHead;
  /** The log's last row once the batch is in. */
  readonly head: ChainHead;
  readonly recorded: number;
  readonly projected: number;
  /** At or below the checkpoint: already applied (redelivery, replay). */
  readonly skipped: number;
  /** An envelope id the log already holds under another stream position. */
  readonly duplicates: number;
}

/**
 * The body of one batch transaction: audit rows, read-model changes and checkpoints, together.
 * Messages at or below a stream's checkpoint change nothing, so redelivery and replay are no-ops.
 * A batch that does not continue a stream from its checkpoint (but for `position.deleted`) is
 * refused before anything is written: committing it would move the checkpoint past messages
 * that then never get an audit row.
 */
export async function commitBatch(
  manager: EntityManager,
  consumerOf: (streamName: string) => string,
  batch: readonly PreparedMessage[],
  position: BatchPosition,
): Promise<BatchResult> {
  const [gap] = skippedRanges(
    position.checkpoints,
    batch.map((message) => message.raw),
  ).filter((range) => !(position.deleted ?? []).some((deleted) => covers(deleted, range)));
  if (gap) {
    throw new Error(
      `stream ${gap.streamName}: the batch skips messages ${gap.from}–${gap.to}, not known to be deleted; refusing to commit it past them`,
    );
  }
  const checkpoints = new Map(position.checkpoints);
  const fresh: PreparedMessage[] = [];
  let skipped = 0;
  for (const message of batch) {
    const applied = checkpoints.get(message.raw.streamName) ?? 0;
    if (message.raw.streamSeq <= applied) {
      skipped += 1;
      continue;
    }
    checkpoints.set(message.raw.streamName, message.raw.streamSeq);
    fresh.push(message);
  }

  const records = fresh.flatMap((message) => (message.kind === 'record' ? [message] : []));
  const known = await recordedEventIds(
    manager,
    records.map((message) => message.entry.eventId),
  );
  // A repeated id is a redelivery, skipped, only when the content is the same too.
  const reused = await reusedEventIds(
    manager,
    records.filter((message) => known.has(message.entry.eventId)).map((message) => message.entry),
  );
  const seen = new Map<string, string>();
  const unique = records.filter((message) => {
    const { eventId, canonical } = message.entry;
    const earlier = seen.get(eventId);
    if (reused.has(eventId) || (earlier !== undefined && earlier !== canonical))
      throw new EventIdReusedError(eventId);
    if (known.has(eventId) || earlier !== undefined) return false;
    seen.set(eventId, canonical);
    return true;
  });

  // Read inside the transaction, so the link is always to the row actually stored last.
  const storedHead = await readChainHead(manager);
  const linked = linkEntries(
    storedHead,
    unique.map((message) => message.entry),
  );
  await insertAuditRows(manager, linked);
  const projected = unique.flatMap((message) => (message.projected ? [message.projected] : []));
  await applyProjections(manager, projected);
  for (const [streamName, sequence] of checkpoints) {
    if (sequence !== position.checkpoints.get(streamName)) {
      await saveCheckpoint(manager, consumerOf(streamName), streamName, sequence);
    }
  }
  const last = linked[linked.length - 1];
  return {
    checkpoints,
    linkedOnto: storedHead,
    head: last ? { seq: last.seq, hash: last.hash } : storedHead,
    recorded: linked.length,
    projected: projected.length,
    skipped,
    duplicates: records.length - unique.length,
  };
}

function covers(outer: SkippedRange, inner: SkippedRange): boolean {
  return outer.streamName === inner.streamName && outer.from <= inner.from && inner.to <= outer.to;
}
