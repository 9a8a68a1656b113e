import { RawJson, stringifyJson } from './raw-json';

describe('RawJson', () => {
  describe('Given JSON text inside a value', () => {
    it('should write the text where the value is, without parsing it', () => {
      const value = {
        items: [{ id: 'a', verdict: new RawJson('{"action": "KILL", "checks": []}') }],
        next: null,
      };
      expect(stringifyJson(value)).toBe(
        '{"items":[{"id":"a","verdict":{"action": "KILL", "checks": []}}],"next":null}',
      );
    });

    it('should keep every raw text in its place, and strings that look like the marker untouched', () => {
      const value = { a: new RawJson('1'), b: ['\u0001raw:0', new RawJson('[2,3]')], c: new RawJson('"x"') };
      const json = stringifyJson(value);
      expect(JSON.parse(json)).toEqual({ a: 1, b: ['\u0001raw:0', [2, 3]], c: 'x' });
    });
  });

  describe('Given plain JSON.stringify', () => {
    it('should serialize the same value by parsing the text', () => {
      expect(JSON.stringify({ v: new RawJson('{"a":[1,{"b":null}]}') })).toBe('{"v":{"a":[1,{"b":null}]}}');
    });
  });

  describe('Given a value without raw texts', () => {
    it('should be JSON.stringify', () => {
      const value = { a: 'x', b: [1, 2, { c: true }], d: null };
      expect(stringifyJson(value)).toBe(JSON.stringify(value));
    });
  });
});
