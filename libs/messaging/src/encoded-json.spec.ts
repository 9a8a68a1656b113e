import { EncodedJson, encodeJson } from './envelope-codec';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

describe('EncodedJson', () => {
  const verdict = {
    action: 'REDUCE_SIZE',
    sizeMultiplier: 0.25,
    reason: 'sized × 0.25',
    checks: [{ a: null }],
  };

  it('is written as the bytes of its value, wherever it is in the encoded value', () => {
    const once = new EncodedJson(verdict);
    expect(text(once.bytes)).toBe(JSON.stringify(verdict));
    expect(text(encodeJson({ ok: true, data: once }))).toBe(JSON.stringify({ ok: true, data: verdict }));
    expect(text(encodeJson(once))).toBe(JSON.stringify(verdict));
    const record = { id: 'r', data: { request: { n: 'é' }, verdict: once, list: [once, 1] }, last: 'x' };
    const plain = { id: 'r', data: { request: { n: 'é' }, verdict, list: [verdict, 1] }, last: 'x' };
    expect(text(encodeJson(record))).toBe(JSON.stringify(plain));
  });

  it('writes the bytes it holds rather than encoding its value again', () => {
    const once = new EncodedJson({ n: 1 });
    (once.value as { n: number }).n = 2;
    expect(text(encodeJson({ data: once }))).toBe('{"data":{"n":1}}');
  });

  it('is encoded in full when a string of the value holds the placeholder text', () => {
    const once = new EncodedJson(verdict);
    const value = { note: '\u0000bifrost:encoded-json', data: once };
    expect(text(encodeJson(value))).toBe(JSON.stringify({ note: value.note, data: verdict }));
  });

  it('leaves nothing behind for the next encoding', () => {
    const once = new EncodedJson(verdict);
    encodeJson({ data: once });
    expect(text(encodeJson({ plain: '\u0000bifrost:encoded-json' }))).toBe(
      JSON.stringify({ plain: '\u0000bifrost:encoded-json' }),
    );
  });
});
