import {
  formatIssues,
  validateEnvelope,
  type Catalogue,
  type Envelope,
  type ErrorBody,
} from '@bifrost/contracts';
import { decodeJson } from '@bifrost/messaging';
import { saveCheckpoint } from '@bifrost/persistence';
import { type EntityManager } from 'typeorm';
import {
  canonicalEnvelope,
  insertAuditRows,
  linkEntries,
  readChainHead,
  recordedEventIds,
  type AuditEntry,
  type ChainHead,
} from '../audit/audit-chain';
import { type ProjectedMessage, type ProjectedStream } from '../read-models/projection';
import { applyProjections, projectedTypes } from '../read-models/registry';

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
 *   `problem` is set when the catalogue rejects it (unknown type, bad data): recorded AND parked;
 * - `park`: not even an envelope the log can hold (not JSON, no envelope shape, not canonicalisable):
 *   parked on the DLQ only.
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
  if (!projectable.has(envelope.value.type)) return { kind: 'record', raw, entry };
  const projected: ProjectedMessage = {
    envelope: envelope.value as Envelope,
    subject: raw.subject,
    stream: raw.stream,
    streamSeq: raw.streamSeq,
  };
  return { kind: 'record', raw, entry, projected };
}

export interface BatchPosition {
  /** Last applied stream sequence per stream name (the checkpoints). */
  readonly checkpoints: ReadonlyMap<string, number>;
}

export interface BatchResult {
  readonly checkpoints: Map<string, number>;
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
 */
export async function commitBatch(
  manager: EntityManager,
  consumerOf: (streamName: string) => string,
  batch: readonly PreparedMessage[],
  position: BatchPosition,
): Promise<BatchResult> {
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
  const seen = new Set<string>();
  const unique = records.filter((message) => {
    const id = message.entry.eventId;
    if (known.has(id) || seen.has(id)) return false;
    seen.add(id);
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
    head: last ? { seq: last.seq, hash: last.hash } : storedHead,
    recorded: linked.length,
    projected: projected.length,
    skipped,
    duplicates: records.length - unique.length,
  };
}
