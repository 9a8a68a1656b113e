import { describeStreamGap, streamGap } from './stream-gap';

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
  });
});
