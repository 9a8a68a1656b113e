import { ValidationError } from '@bifrost/event-sourcing';

/**
 * U+0000, which Postgres `text` and `jsonb` cannot hold, or a UTF-16 surrogate without its pair,
 * which is not Unicode text and has no UTF-8 form. A message holding either could be stored in a
 * stream and acted on, but not written to the audit log: it would be parked there instead, a
 * decision or event missing from a chain that still verifies.
 */
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether JSON text can decode to such a string at all: only through a `\u` escape, since raw,
 * U+0000 is not valid JSON and a lone surrogate not valid UTF-8. A quick test that spares the
 * walk for nearly every message.
 */
function mayHoldUnstorableText(json: Uint8Array | string): boolean {
  return typeof json === 'string'
    ? json.includes('\\u')
    : Buffer.from(json.buffer, json.byteOffset, json.byteLength).includes('\\u');
}

/** Whether any string of a parsed JSON value, key or value, holds U+0000 or a lone surrogate. */
export function holdsUnstorableText(value: unknown): boolean {
  // An explicit stack, as in `nestedDeeperThan`: no recursion, whatever the depth.
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (UNSTORABLE.test(item)) return true;
    } else if (Array.isArray(item)) {
      for (const element of item as unknown[]) pending.push(element);
    } else if (typeof item === 'object' && item !== null) {
      for (const key in item) {
        if (UNSTORABLE.test(key)) return true;
        pending.push((item as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/**
 * Refuses a value whose text could not be stored or audited as malformed input (`ValidationError`,
 * `PAYLOAD.MALFORMED`). Given the JSON text it was read from (or written to), it looks into the
 * value only when that text has a `\u` escape.
 */
export function assertStorableText(value: unknown, json?: Uint8Array | string): void {
  if (json !== undefined && !mayHoldUnstorableText(json)) return;
  if (holdsUnstorableText(value)) {
    throw new ValidationError(
      'text holds U+0000 or an unpaired UTF-16 surrogate, which cannot be stored or audited',
      { code: 'PAYLOAD.MALFORMED' },
    );
  }
}
