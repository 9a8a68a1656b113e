import { Type } from '@sinclair/typebox';
import { compile } from './ajv';
import { clipText } from './text';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const codePoints = (text: string) => Array.from(text).length;

describe('clipText', () => {
  it('should keep a text shorter than the limit, or exactly as long', () => {
    expect(clipText('down', 10)).toBe('down');
    expect(clipText('down', 4)).toBe('down');
    expect(clipText('', 0)).toBe('');
    expect(clipText('', 5)).toBe('');
  });

  it('should count code points, as maxLength does: emoji within the limit are kept whole', () => {
    const text = `a${'😀'.repeat(300)}`; // 601 UTF-16 code units, 301 code points
    expect(clipText(text, 301)).toBe(text);
    expect(compile(Type.String({ maxLength: 301 }))(text).ok).toBe(true);
  });

  it('should end a shortened text with … counted within the limit', () => {
    expect(clipText('abcdef', 4)).toBe('abc…');
    expect(codePoints(clipText('x'.repeat(600), 500))).toBe(500);
  });

  it('should never split an emoji at the cut point', () => {
    const text = `a${'😀'.repeat(10)}`;
    for (let max = 1; max <= 11; max += 1) {
      const clipped = clipText(text, max);
      expect(clipped).not.toMatch(LONE_SURROGATE);
      expect(codePoints(clipped)).toBeLessThanOrEqual(max);
      expect(compile(Type.String({ maxLength: max }))(clipped).ok).toBe(true);
    }
    expect(clipText(text, 4)).toBe('a😀😀…');
  });

  it('should leave only … or nothing when the limit is that small', () => {
    expect(clipText('😀😀', 1)).toBe('…');
    expect(clipText('ab', 0)).toBe('');
    expect(clipText('ab', -3)).toBe('');
  });
});
