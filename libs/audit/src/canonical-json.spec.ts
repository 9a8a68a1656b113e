import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalize } from './canonical-json';
import { vectorsDir } from './test-vectors.fixture';

describe('canonicalize (RFC 8785 JCS)', () => {
  describe('Given the reference vectors of cyberphone/json-canonicalization', () => {
    const dir = vectorsDir('jcs');
    const cases = readdirSync(join(dir, 'input'))
      .filter((name) => name.endsWith('.json'))
      .sort();

    it('should find all six cases', () => {
      expect(cases).toEqual([
        'arrays.json',
        'french.json',
        'structures.json',
        'unicode.json',
        'values.json',
        'weird.json',
      ]);
    });

    it.each(cases)('should reproduce output/%s byte for byte', (name) => {
      const input: unknown = JSON.parse(readFileSync(join(dir, 'input', name), 'utf8'));
      const expected = readFileSync(join(dir, 'output', name));
      expect(Buffer.from(canonicalize(input), 'utf8')).toEqual(expected);
    });

    it.each(cases)('should reproduce the hex bytes of outhex/%s', (name) => {
      const input: unknown = JSON.parse(readFileSync(join(dir, 'input', name), 'utf8'));
      const outhex = readFileSync(join(dir, 'outhex', name.replace(/\.json$/, '.txt')), 'utf8');
      const expected = outhex.trim().split(/\s+/).join('');
      expect(Buffer.from(canonicalize(input), 'utf8').toString('hex')).toBe(expected);
    });
  });

  describe('When serialising numbers', () => {
    it.each([
      [0, '0'],
      [-0, '0'],
      [1, '1'],
      [-1, '-1'],
      [4.5, '4.5'],
      [0.002, '0.002'],
      [1e-6, '0.000001'],
      [9.999999999999997e-7, '9.999999999999997e-7'],
      [1e-7, '1e-7'],
      [1e21, '1e+21'],
      [999999999999999900000, '999999999999999900000'],
      [333333333.3333333, '333333333.3333333'],
      [9007199254740991, '9007199254740991'],
      [9007199254740994, '9007199254740994'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [-1.7976931348623157e308, '-1.7976931348623157e+308'],
    ])('should write %p as %s', (value, expected) => {
      expect(canonicalize(value)).toBe(expected);
    });

    // Lines from the ES6 number file named in testvectors/jcs/README.md: hex IEEE-754 → expected.
    it.each([
      ['4340000000000001', '9007199254740994'],
      ['4340000000000002', '9007199254740996'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['8000000000000000', '0'],
      ['0', '0'],
    ])('should write the double 0x%s as %s', (hex, expected) => {
      expect(canonicalize(Buffer.from(hex.padStart(16, '0'), 'hex').readDoubleBE(0))).toBe(expected);
    });
  });

  describe('When serialising strings', () => {
    it.each([
      ['the JSON short escapes', '\b\t\n\f\r"\\', '"\\b\\t\\n\\f\\r\\"\\\\"'],
      ['other control characters in lowercase hex', '\u0000\u000f\u001f', '"\\u0000\\u000f\\u001f"'],
      ['DEL and C1 controls as is', '\u007f\u0080', '"\u007f\u0080"'],
      ['a slash as is', '</script>', '"</script>"'],
      ['non-ASCII as is', 'péché €', '"péché €"'],
      ['a surrogate pair as is', '😂', '"😂"'],
      ['unnormalised Unicode unchanged', 'A\u030a', '"A\u030a"'],
    ])('should write %s', (_why, value, expected) => {
      expect(canonicalize(value)).toBe(expected);
    });

    it.each([
      ['a lone high surrogate', '\ud83d'],
      ['a lone low surrogate', '\ude02'],
      ['swapped surrogates', '\ude02\ud83d'],
    ])('should reject %s', (_why, value) => {
      expect(() => canonicalize(value)).toThrow(/lone surrogate/);
    });

    it('should reject a lone surrogate in a key', () => {
      expect(() => canonicalize({ ['a\ud800']: 1 })).toThrow(/lone surrogate at \/a/);
    });
  });

  describe('When serialising objects', () => {
    it('should sort keys by UTF-16 code units, not by code points or locale', () => {
      // U+1F602 sorts after U+FB33 by code point but before it by UTF-16 code unit (0xD83D < 0xFB33).
      expect(canonicalize({ '\u{1F602}': 1, '\uFB33': 2, é: 3, e: 4, E: 5, '10': 6, '1': 7 })).toBe(
        '{"1":7,"10":6,"E":5,"e":4,"é":3,"\u{1F602}":1,"\uFB33":2}',
      );
    });

    it('should sort nested objects and keep array order', () => {
      expect(canonicalize({ b: [{ z: 1, a: 2 }, 3], a: { d: null, c: true } })).toBe(
        '{"a":{"c":true,"d":null},"b":[{"a":2,"z":1},3]}',
      );
    });

    it('should write empty containers', () => {
      expect(canonicalize({ a: {}, b: [] })).toBe('{"a":{},"b":[]}');
    });

    it('should omit members whose value is undefined', () => {
      expect(canonicalize({ a: 1, b: undefined })).toBe('{"a":1}');
    });

    it('should accept an object without a prototype', () => {
      const bare = Object.assign(Object.create(null) as object, { b: 1, a: 2 });
      expect(canonicalize(bare)).toBe('{"a":2,"b":1}');
    });

    it('should accept the same object twice when it is not a cycle', () => {
      const shared = { x: 1 };
      expect(canonicalize({ a: shared, b: [shared, shared] })).toBe('{"a":{"x":1},"b":[{"x":1},{"x":1}]}');
    });

    it('should use toJSON like JSON.stringify', () => {
      expect(canonicalize({ at: new Date(Date.UTC(2026, 10, 21, 20, 42, 55, 123)) })).toBe(
        '{"at":"2026-11-21T20:42:55.123Z"}',
      );
    });

    it('should write an invalid Date as null, as its toJSON does', () => {
      expect(canonicalize({ at: new Date(NaN) })).toBe('{"at":null}');
    });

    it('should agree with JSON.stringify on data without keys to reorder', () => {
      const value = { a: [1, 'two', null, true, { b: 0.1 }], c: 'é\n' };
      expect(canonicalize(value)).toBe(JSON.stringify(value));
    });
  });

  describe('When given a value JSON cannot represent', () => {
    it.each([
      ['NaN', NaN, /NaN at the root/],
      ['Infinity', Infinity, /Infinity at the root/],
      ['-Infinity', -Infinity, /-Infinity at the root/],
      ['undefined', undefined, /undefined at the root/],
      ['a function', () => 1, /function at the root/],
      ['a symbol', Symbol('s'), /symbol at the root/],
      ['a bigint', 1n, /bigint at the root/],
      ['NaN in an object', { a: { b: NaN } }, /NaN at \/a\/b/],
      ['undefined in an array', [1, undefined], /undefined at \/1/],
      ['a hole in an array', [1, , 3], /undefined at \/1/], // eslint-disable-line no-sparse-arrays
      ['a function member', { f: () => 1 }, /function at \/f/],
      ['a bigint member', { seq: 10n }, /bigint at \/seq/],
      ['a Map', { m: new Map() }, /Map at \/m/],
      ['a Set', [new Set([1])], /Set at \/0/],
      ['a class instance', { p: new (class Point {})() }, /Point at \/p/],
      ['a boxed number', { n: new Number(1) }, /Number at \/n/],
    ])('should throw on %s', (_why, value, message) => {
      expect(() => canonicalize(value)).toThrow(message);
    });

    it('should throw on a cyclic object', () => {
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic['self'] = { back: cyclic };
      expect(() => canonicalize(cyclic)).toThrow(/cyclic structure at \/self\/back/);
    });

    it('should throw on a cyclic array', () => {
      const cyclic: unknown[] = [];
      cyclic.push(cyclic);
      expect(() => canonicalize(cyclic)).toThrow(/cyclic structure at \/0/);
    });

    it('should escape the path of an odd key', () => {
      expect(() => canonicalize({ 'a/b~c': NaN })).toThrow(/at \/a~1b~0c/);
    });
  });
});
