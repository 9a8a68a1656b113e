import { ValidationError } from '@bifrost/event-sourcing';
import { createEnvelope, decodeEnvelope } from './envelope-codec';
import { assertStorableText, holdsUnstorableText } from './storable-text';

describe('holdsUnstorableText', () => {
  it.each([
    ['U+0000', 'a\u0000b'],
    ['a lone high surrogate', 'x\ud800'],
    ['a lone low surrogate', '\udc00x'],
    ['two high surrogates', '\ud800\ud800\udc00'],
  ])('should find %s in a value, a key, or deep inside', (_label, text) => {
    expect(holdsUnstorableText(text)).toBe(true);
    expect(holdsUnstorableText({ a: [1, { b: text }] })).toBe(true);
    expect(holdsUnstorableText({ [text]: 1 })).toBe(true);
  });

  it('should take any other text: pairs, emoji, control characters Postgres stores', () => {
    expect(holdsUnstorableText({ a: ['😀 \ud83d\ude00', 'tab\t', '\u0001', 'é'], b: null, c: 1.5 })).toBe(
      false,
    );
  });
});

describe('assertStorableText', () => {
  const poisoned = { reason: 'x\ud800' };

  it('should refuse such text as malformed input', () => {
    expect(() => assertStorableText(poisoned)).toThrow(ValidationError);
    expect(() => assertStorableText(poisoned)).toThrow(
      expect.objectContaining({ code: 'PAYLOAD.MALFORMED' }) as Error,
    );
  });

  it('should look into the value only when its JSON text has a \\u escape', () => {
    // As read from the wire: such text can only come through an escape, which JSON.stringify writes too.
    expect(() => assertStorableText(poisoned, JSON.stringify(poisoned))).toThrow(ValidationError);
    expect(() => assertStorableText(poisoned, Buffer.from(JSON.stringify(poisoned)))).toThrow(
      ValidationError,
    );
    expect(() => assertStorableText(poisoned, '{"reason":"x"}')).not.toThrow();
  });
});

describe('decodeEnvelope of an envelope the audit log could not hold', () => {
  const started = (service: string) =>
    Buffer.from(
      JSON.stringify(
        createEnvelope({
          type: 'system.ServiceStarted',
          subject: 'bifrost.evt.system.service.gate',
          source: 'gate',
          actor: { kind: 'system', id: 'gate' },
          data: { service, instanceId: 'i-1', version: '1', previousStarts: 0 },
        }),
      ),
    );

  it('should refuse it as malformed, so a consumer parks it at once rather than act on it', () => {
    expect(decodeEnvelope(started('gate')).type).toBe('system.ServiceStarted');
    expect(() => decodeEnvelope(started('ga\u0000te'))).toThrow(
      expect.objectContaining({ code: 'PAYLOAD.MALFORMED' }) as Error,
    );
  });
});
