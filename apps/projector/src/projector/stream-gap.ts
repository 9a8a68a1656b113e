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
  | { readonly kind: 'behind'; readonly lastSeq: number };

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
  return gap.kind === 'removed'
    ? `stream ${stream}: messages ${gap.from}–${gap.to} were removed before the projector applied them (checkpoint ${checkpoint}); the audit log would have a hole, so the projector does not go on (docs/projector.md "Gaps in a stream")`
    : `stream ${stream} ends at ${gap.lastSeq}, below the projector's checkpoint ${checkpoint}: it was recreated or restored from an older backup, and its new messages would be skipped, so the projector does not go on (docs/projector.md "Gaps in a stream")`;
}
