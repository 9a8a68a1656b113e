/**
 * What lies between the projector's checkpoint on a stream and what the stream still holds. The
 * projector resumes at checkpoint + 1; if the stream no longer has that message, or ends below the
 * checkpoint, resuming would leave a hole in the audit log that nothing would show (its `seq` stays
 * gapless), so the projector refuses instead (docs/projector.md "Gaps in a stream").
 */
export type StreamGap =
  /** Messages `from`–`to` were removed (retention, purge) before the projector applied them. */
  | { readonly kind: 'removed'; readonly from: number; readonly to: number }
  /** The stream ends below the checkpoint: recreated, or restored from an older backup. */
  | { readonly kind: 'behind'; readonly lastSeq: number }
  /**
   * At `seq`, the last position up to the checkpoint that the audit log recorded, the stream holds
   * another message (`found`: its envelope id, null if it has none): recreated and refilled.
   */
  | {
      readonly kind: 'replaced';
      readonly seq: number;
      readonly recorded: string;
      readonly found: string | null;
    };

export function streamGap(
  checkpoint: number,
  state: { readonly first_seq: number; readonly last_seq: number },
): StreamGap | undefined {
  if (state.last_seq < checkpoint) return { kind: 'behind', lastSeq: state.last_seq };
  if (state.first_seq > checkpoint + 1)
    return { kind: 'removed', from: checkpoint + 1, to: state.first_seq - 1 };
  return undefined;
}

export function describeStreamGap(stream: string, checkpoint: number, gap: StreamGap): string {
  switch (gap.kind) {
    case 'removed':
      return `stream ${stream}: messages ${gap.from}–${gap.to} were removed before the projector applied them (checkpoint ${checkpoint}); the audit log would have a hole, so the projector does not go on (docs/projector.md "Gaps in a stream")`;
    case 'behind':
      return `stream ${stream} ends at ${gap.lastSeq}, below the projector's checkpoint ${checkpoint}: it was recreated or restored from an older backup, and its new messages would be skipped, so the projector does not go on (docs/projector.md "Gaps in a stream")`;
    case 'replaced':
      return `stream ${stream} holds ${gap.found === null ? 'a message that is no envelope' : `envelope ${gap.found}`} at ${gap.seq}, where the audit log recorded ${gap.recorded}: it was recreated and refilled, and the projector would skip its messages up to the checkpoint ${checkpoint}, so it does not go on (docs/projector.md "Gaps in a stream")`;
  }
}

/** The envelope id of a stored message, or null when the message is not an envelope. */
export function envelopeIdOf(data: Uint8Array): string | null {
  try {
    const id = (JSON.parse(Buffer.from(data).toString('utf8')) as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

/** Stream sequences `from`–`to` that a batch jumps over. */
export interface SkippedRange {
  readonly streamName: string;
  readonly from: number;
  readonly to: number;
}

/**
 * Where `messages`, in delivery order, do not continue each stream one by one from its checkpoint.
 * A message at or below what is already applied is a redelivery and skips nothing.
 */
export function skippedRanges(
  checkpoints: ReadonlyMap<string, number>,
  messages: readonly { readonly streamName: string; readonly streamSeq: number }[],
): SkippedRange[] {
  const applied = new Map(checkpoints);
  const skipped: SkippedRange[] = [];
  for (const { streamName, streamSeq } of messages) {
    const last = applied.get(streamName) ?? 0;
    if (streamSeq <= last) continue;
    if (streamSeq > last + 1) skipped.push({ streamName, from: last + 1, to: streamSeq - 1 });
    applied.set(streamName, streamSeq);
  }
  return skipped;
}

/**
 * The first sequence of `range` that the stream still holds, given the sequences it deleted one by
 * one (stream info with `deleted_details`); undefined when it deleted them all. Call it only once
 * {@link streamGap} found nothing, i.e. the range is not below the stream's first sequence.
 */
export function firstHeld(range: SkippedRange, deleted: readonly number[]): number | undefined {
  const gone = new Set(deleted);
  for (let seq = range.from; seq <= range.to; seq += 1) if (!gone.has(seq)) return seq;
  return undefined;
}

export function describeSkipped(range: SkippedRange, held?: number): string {
  const what = `stream ${range.streamName}: delivery skipped messages ${range.from}–${range.to}`;
  return held === undefined
    ? `${what}, which were deleted from the stream before the projector applied them; they have no audit rows`
    : `${what}, but the stream still holds ${held}: another client pulled it from the projector's consumer (a writer that lost its lock?); not committing, fetching again from the checkpoint`;
}
