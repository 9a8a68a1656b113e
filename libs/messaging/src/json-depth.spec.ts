import { Type } from '@sinclair/typebox';
import { Catalogue, defineMessage } from '@bifrost/contracts';
import { ValidationError } from '@bifrost/event-sourcing';
import { createEnvelope, decodeEnvelope } from './envelope-codec';
import { assertJsonDepth, MAX_ENVELOPE_DEPTH, MAX_JSON_DEPTH, nestedDeeperThan } from './json-depth';

/** `levels` arrays and objects nested, alternately, around `1`. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i += 1) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

const Noted = defineMessage({
  type: 'system.Noted',
  version: 1,
  kind: 'event',
  producer: 'test',
  consumers: [],
  subject: 'bifrost.evt.system.note.{id}',
  description: 'test event with a free-form field',
  data: Type.Object({ detail: Type.Unknown() }, { additionalProperties: false }),
});
const catalogue = new Catalogue([Noted], []);

/** An envelope `levels` deep in all: the envelope, `data`, and `detail`'s value from level 3. */
const envelopeBytes = (levels: number) =>
  Buffer.from(
    JSON.stringify(
      createEnvelope({
        type: 'system.Noted',
        subject: 'bifrost.evt.system.note.n1',
        source: 'test',
        actor: { kind: 'system', id: 'test' },
        data: { detail: nested(levels - 2) },
      }),
    ),
  );

describe('nestedDeeperThan', () => {
  it('should count every array and object as a level, and scalars as none', () => {
    expect(nestedDeeperThan(1, 0)).toBe(false);
    expect(nestedDeeperThan(null, 0)).toBe(false);
    expect(nestedDeeperThan('deep', 0)).toBe(false);
    expect(nestedDeeperThan({}, 0)).toBe(true);
    expect(nestedDeeperThan({}, 1)).toBe(false);
    expect(nestedDeeperThan([[]], 1)).toBe(true);
    expect(nestedDeeperThan({ a: 1, b: [1, 'x', null] }, 2)).toBe(false);
    expect(nestedDeeperThan({ a: 1, b: [1, 'x', { c: null }] }, 2)).toBe(true);
  });

  it(`should take ${MAX_JSON_DEPTH} levels by default and refuse ${MAX_JSON_DEPTH + 1}`, () => {
    expect(nestedDeeperThan(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(nestedDeeperThan(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    // The deep branch found among shallow siblings, wherever it is.
    const wide = { a: [1, 2, { b: 3 }], z: { y: nested(MAX_JSON_DEPTH) }, m: 'x' };
    expect(nestedDeeperThan(wide)).toBe(true);
    expect(nestedDeeperThan({ ...wide, z: nested(MAX_JSON_DEPTH - 1) })).toBe(false);
  });

  it('should walk a value far deeper than any stack without recursing', () => {
    expect(nestedDeeperThan(nested(200_000))).toBe(true);
    expect(nestedDeeperThan(nested(200_000), 300_000)).toBe(false);
  });

  it('should refuse the value as malformed with assertJsonDepth', () => {
    expect(() => assertJsonDepth(nested(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => assertJsonDepth(nested(MAX_JSON_DEPTH + 1))).toThrow(ValidationError);
    expect(() => assertJsonDepth(nested(3000))).toThrow(
      expect.objectContaining({
        code: 'PAYLOAD.MALFORMED',
        message: 'payload is nested deeper than 64 levels',
      }) as Error,
    );
  });
});

describe('decodeEnvelope of a deeply nested envelope', () => {
  it(`should take ${MAX_ENVELOPE_DEPTH} levels: an event may carry a ${MAX_JSON_DEPTH}-deep request further down`, () => {
    expect(decodeEnvelope(envelopeBytes(MAX_ENVELOPE_DEPTH), catalogue).type).toBe('system.Noted');
  });

  it(`should refuse ${MAX_ENVELOPE_DEPTH + 1} levels and more as malformed, like JSON that does not parse`, () => {
    for (const levels of [MAX_ENVELOPE_DEPTH + 1, 3000]) {
      expect(() => decodeEnvelope(envelopeBytes(levels), catalogue)).toThrow(
        expect.objectContaining({
          code: 'PAYLOAD.MALFORMED',
          message: `payload is nested deeper than ${MAX_ENVELOPE_DEPTH} levels`,
        }) as Error,
      );
    }
  });
});
