import { Type } from '@sinclair/typebox';
import { compile } from './ajv';
import { envelopeOf, validateEnvelope, type Envelope } from './envelope';

describe('Envelope', () => {
  describe('Given a valid envelope', () => {
    it('should accept it', () => {
      expect(validateEnvelope(anEnvelope())).toEqual({ ok: true, value: anEnvelope() });
    });

    it('should accept it without the optional correlation and causation ids', () => {
      const { correlationId: _c, causationId: _k, ...minimal } = anEnvelope();
      expect(validateEnvelope(minimal).ok).toBe(true);
    });

    it.each(['engine', 'operator', 'system'])('should accept actor kind %s', (kind) => {
      expect(validateEnvelope(anEnvelope({ actor: { kind, id: 'a-1' } })).ok).toBe(true);
    });

    it('should accept empty data', () => {
      expect(validateEnvelope(anEnvelope({ data: {} })).ok).toBe(true);
    });
  });

  describe('When a required field is missing', () => {
    it.each(['id', 'type', 'version', 'occurredAt', 'source', 'subject', 'actor', 'data'])(
      'should reject it without %s',
      (field) => {
        const envelope: Record<string, unknown> = anEnvelope();
        delete envelope[field];
        expectRejected(envelope, '/', `must have required property '${field}'`);
      },
    );
  });

  describe('When a field is malformed', () => {
    it.each([
      ['not a uuid', 'not-a-uuid'],
      ['uppercase hex', '0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B'],
      ['missing a group', '0193a1b2-c3d4-7e5f-0c1d2e3f4a5b'],
    ])('should reject an id that is %s', (_why, id) => {
      expectRejected(anEnvelope({ id }), '/id');
    });

    it.each([
      ['no context', 'MaturityPromoted'],
      ['a lowercase name', 'gate.maturityPromoted'],
      ['two dots', 'gate.strategy.MaturityPromoted'],
      ['an uppercase context', 'Gate.MaturityPromoted'],
      ['a space', 'gate.Maturity Promoted'],
      // The audit log indexes the type: a key thousands of characters long does not fit the index.
      ['more than 100 characters', `gate.${'A'.repeat(96)}`],
    ])('should reject a type with %s', (_why, type) => {
      expectRejected(anEnvelope({ type }), '/type');
    });

    it.each([
      ['without milliseconds', '2026-11-21T20:42:55Z'],
      ['with an offset instead of Z', '2026-11-21T20:42:55.123+01:00'],
      ['without a zone', '2026-11-21T20:42:55.123'],
      ['with microseconds', '2026-11-21T20:42:55.123456Z'],
      ['as a date only', '2026-11-21'],
      ['on a day February does not have', '2026-02-30T00:00:00.000Z'],
      ['in year 0000', '0000-06-01T00:00:00.000Z'],
      ['as epoch millis', 1795293775123],
    ])('should reject occurredAt %s', (_why, occurredAt) => {
      expectRejected(anEnvelope({ occurredAt }), '/occurredAt');
    });

    it.each([0, -1, 1.5, '1'])('should reject version %j', (version) => {
      expectRejected(anEnvelope({ version }), '/version');
    });

    it('should reject an extra property', () => {
      expectRejected({ ...anEnvelope(), extra: true }, '/', 'must NOT have the property "extra"');
    });

    it.each([
      ['an array', [1, 2]],
      ['a string', 'payload'],
      ['null', null],
      ['a number', 42],
    ])('should reject data that is %s', (_why, data) => {
      expectRejected(anEnvelope({ data }), '/data');
    });

    it('should reject an unknown actor kind', () => {
      expectRejected(anEnvelope({ actor: { kind: 'robot', id: 'r-1' } }), '/actor/kind');
    });

    it('should reject an actor without an id or with an extra property', () => {
      expectRejected(anEnvelope({ actor: { kind: 'system' } }), '/actor');
      expectRejected(anEnvelope({ actor: { kind: 'system', id: 'x', name: 'y' } }), '/actor');
    });

    it('should reject an over-long or empty source', () => {
      expectRejected(anEnvelope({ source: 'x'.repeat(101) }), '/source');
      expectRejected(anEnvelope({ source: '' }), '/source');
    });

    it('should reject an over-long subject and over-long correlation ids', () => {
      expectRejected(anEnvelope({ subject: 'x'.repeat(513) }), '/subject');
      expectRejected(anEnvelope({ correlationId: 'x'.repeat(201) }), '/correlationId');
      expectRejected(anEnvelope({ causationId: '' }), '/causationId');
    });

    it('should reject something that is not an object at all', () => {
      expect(validateEnvelope('{"id":1}').ok).toBe(false);
      expect(validateEnvelope(null).ok).toBe(false);
    });

    it('should report every problem at once', () => {
      const result = validateEnvelope(anEnvelope({ id: 'x', version: 0 }));
      expect(result.ok ? [] : result.issues.map((i) => i.path)).toEqual(
        expect.arrayContaining(['/id', '/version']),
      );
    });
  });

  describe('envelopeOf', () => {
    const validate = compile(
      envelopeOf(Type.Object({ amount: Type.Integer() }, { additionalProperties: false })),
    );

    it('should accept an envelope whose data matches the data schema', () => {
      expect(validate(anEnvelope({ data: { amount: 100 } })).ok).toBe(true);
    });

    it('should reject data that does not match, and still check the envelope', () => {
      expect(validate(anEnvelope({ data: { amount: 1.5 } })).ok).toBe(false);
      expect(validate(anEnvelope({ data: { amount: 1, other: 2 } })).ok).toBe(false);
      expect(validate(anEnvelope({ data: { amount: 1 }, version: 0 })).ok).toBe(false);
      expect(validate({ ...anEnvelope({ data: { amount: 1 } }), extra: 1 }).ok).toBe(false);
    });
  });
});

function expectRejected(value: unknown, path: string, message?: string): void {
  const result = validateEnvelope(value);
  expect(result.ok).toBe(false);
  if (!result.ok) {
    expect(result.issues).toEqual(
      expect.arrayContaining([expect.objectContaining(message === undefined ? { path } : { path, message })]),
    );
  }
}

function anEnvelope(overrides: Record<string, unknown> = {}): Envelope & Record<string, unknown> {
  return {
    id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    type: 'gate.MaturityPromoted',
    version: 1,
    occurredAt: '2026-11-21T20:42:55.123Z',
    source: 'gate',
    subject: 'bifrost.evt.gate.strategy.s-123',
    correlationId: 'corr-1',
    causationId: 'cause-1',
    actor: { kind: 'engine', id: 'engine-1' },
    data: { strategyId: 's-123', level: 'L3' },
    ...overrides,
  };
}
