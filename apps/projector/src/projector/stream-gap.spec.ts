import {
  describeSkipped,
  describeStreamGap,
  envelopeIdOf,
  firstHeld,
  skippedRanges,
  streamGap,
} from './stream-gap';

describe('streamGap', () => {
  it('should find nothing when the stream still holds the message after the checkpoint', () => {
    expect(streamGap(0, { first_seq: 0, last_seq: 0 })).toBeUndefined(); // a stream never used
    expect(streamGap(0, { first_seq: 1, last_seq: 10 })).toBeUndefined();
    expect(streamGap(5, { first_seq: 6, last_seq: 10 })).toBeUndefined();
    expect(streamGap(10, { first_seq: 11, last_seq: 10 })).toBeUndefined(); // everything applied, then aged out
  });

  it('should name the messages removed before the projector applied them', () => {
    expect(streamGap(5, { first_seq: 8, last_seq: 10 })).toEqual({ kind: 'removed', from: 6, to: 7 });
    expect(streamGap(5, { first_seq: 11, last_seq: 10 })).toEqual({ kind: 'removed', from: 6, to: 10 });
  });

  it('should notice a stream that ends below the checkpoint', () => {
    expect(streamGap(100, { first_seq: 1, last_seq: 3 })).toEqual({ kind: 'behind', lastSeq: 3 });
    expect(streamGap(100, { first_seq: 0, last_seq: 0 })).toEqual({ kind: 'behind', lastSeq: 0 });
  });

  it('should explain either in a sentence an operator can act on', () => {
    expect(describeStreamGap('BIFROST_DECISIONS', 5, { kind: 'removed', from: 6, to: 7 })).toContain(
      'stream BIFROST_DECISIONS: messages 6–7 were removed before the projector applied them (checkpoint 5)',
    );
    expect(describeStreamGap('BIFROST_EVENTS', 100, { kind: 'behind', lastSeq: 3 })).toContain(
      "stream BIFROST_EVENTS ends at 3, below the projector's checkpoint 100",
    );
    expect(
      describeStreamGap('BIFROST_EVENTS', 100, { kind: 'replaced', seq: 98, recorded: 'a', found: 'b' }),
    ).toContain('stream BIFROST_EVENTS holds envelope b at 98, where the audit log recorded a');
    expect(
      describeStreamGap('BIFROST_EVENTS', 100, { kind: 'replaced', seq: 98, recorded: 'a', found: null }),
    ).toContain('holds a message that is no envelope at 98');
  });
});

describe('envelopeIdOf', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  it('should read the id of an envelope, and null from anything else', () => {
    expect(envelopeIdOf(bytes('{"id":"e-1","type":"gate.X"}'))).toBe('e-1');
    expect(envelopeIdOf(bytes('{"id":7}'))).toBeNull();
    expect(envelopeIdOf(bytes('null'))).toBeNull();
    expect(envelopeIdOf(bytes('not json'))).toBeNull();
  });
});

describe('skippedRanges', () => {
  const checkpoints = new Map([
    ['EVENTS', 4],
    ['DECISIONS', 10],
  ]);
  const at = (streamName: string, streamSeq: number) => ({ streamName, streamSeq });

  it('should find nothing when each stream goes on one by one from its checkpoint', () => {
    expect(skippedRanges(checkpoints, [at('EVENTS', 5), at('DECISIONS', 11), at('EVENTS', 6)])).toEqual([]);
    expect(skippedRanges(checkpoints, [at('EVENTS', 3), at('EVENTS', 4), at('EVENTS', 5)])).toEqual([]); // redelivered
  });

  it('should name what a batch jumps over, after the checkpoint or between two of its messages', () => {
    expect(skippedRanges(checkpoints, [at('EVENTS', 7), at('DECISIONS', 11), at('DECISIONS', 13)])).toEqual([
      { streamName: 'EVENTS', from: 5, to: 6 },
      { streamName: 'DECISIONS', from: 12, to: 12 },
    ]);
  });

  it('should not take a message that comes after a later one as filling the hole', () => {
    expect(skippedRanges(checkpoints, [at('EVENTS', 5), at('EVENTS', 7), at('EVENTS', 6)])).toEqual([
      { streamName: 'EVENTS', from: 6, to: 6 },
    ]);
  });
});

describe('firstHeld', () => {
  const range = { streamName: 'EVENTS', from: 5, to: 7 };

  it('should find nothing when the stream deleted every message of the range', () => {
    expect(firstHeld(range, [2, 5, 6, 7])).toBeUndefined();
  });

  it('should name the first message of the range the stream still holds', () => {
    expect(firstHeld(range, [5, 7])).toBe(6);
    expect(firstHeld(range, [])).toBe(5);
  });

  it('should say which, in a sentence an operator can act on', () => {
    expect(describeSkipped(range)).toContain('messages 5–7, which were deleted from the stream');
    expect(describeSkipped(range, 6)).toContain('but the stream still holds 6');
  });
});
