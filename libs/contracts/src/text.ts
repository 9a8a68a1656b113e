/** What marks a shortened text: one code point, counted within the limit. */
const ELLIPSIS = '…';

/**
 * `text` shortened to at most `max` Unicode code points, which is what a schema's `maxLength`
 * counts, ending with `…` when cut. It never cuts between the two halves of a surrogate pair (an
 * emoji), which would leave text that cannot be stored or audited. A `max` below 1 leaves nothing.
 */
export function clipText(text: string, max: number): string {
  // A string has at least as many UTF-16 code units as code points: most texts end here.
  if (text.length <= max) return text;
  const codePoints = Array.from(text);
  if (codePoints.length <= max) return text;
  if (max < 1) return '';
  return codePoints.slice(0, max - 1).join('') + ELLIPSIS;
}
