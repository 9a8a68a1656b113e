import { isRealInstant } from '@bifrost/contracts';

/** A contract timestamp's shape (RFC 3339 UTC with ms): what the projector writes to `timestamptz`. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The first timestamp-shaped string in `value` that is not a real instant, with its path
 * (`data.entries[1].data.settledAt`): read models write such fields to `timestamptz` columns.
 */
export function impossibleTimestamp(
  value: unknown,
  path: string,
): { readonly path: string; readonly value: string } | undefined {
  if (typeof value === 'string')
    return value.length === 24 && TIMESTAMP.test(value) && !isRealInstant(value)
      ? { path, value }
      : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  // Paths are built only on the way back from a find: this walk runs for every message.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = impossibleTimestamp(value[i], '');
      if (found) return { path: `${path}[${i}]${found.path}`, value: found.value };
    }
    return undefined;
  }
  for (const key in value) {
    const found = impossibleTimestamp((value as Record<string, unknown>)[key], '');
    if (found) return { path: `${path}.${key}${found.path}`, value: found.value };
  }
  return undefined;
}
