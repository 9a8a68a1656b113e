/**
 * What changed from one set of policies to another, as `GET /policy-revisions/{revision}/diff/{other}`
 * answers it: one change per path where the two differ, in a deterministic order.
 *
 * - Objects are compared key by key, keys sorted (UTF-16 code units, as JCS sorts them), depth first:
 *   a change deep in an object is reported at its own path, not as a change of the object.
 * - Anything else (arrays, strings, numbers, booleans, null) is compared as a whole value: a changed
 *   whitelist is one change of the array. So is an object replaced by a non-object or the reverse.
 * - `path` is a JSON Pointer (RFC 6901) from the policies' root: `/control/killSwitches/global`, with
 *   `~` written `~0` and `/` written `~1` in keys. The root itself is `""` (only when one side is not
 *   an object at all).
 * - `op` is `changed` when the path is there on both sides, `added` when only in `to`, `removed` when
 *   only in `from`. `from`/`to` are the values at the path; a side where the path is absent is null,
 *   so `op` tells an absent key from a key whose value is null.
 */
export type PolicyChangeOp = 'added' | 'removed' | 'changed';

export interface PolicyChange {
  readonly path: string;
  readonly op: PolicyChangeOp;
  readonly from: unknown;
  readonly to: unknown;
}

export function diffPolicies(from: unknown, to: unknown): PolicyChange[] {
  const changes: PolicyChange[] = [];
  compare(from, to, '', changes);
  return changes;
}

/** One reference token of a JSON Pointer (RFC 6901 §3): `~` first, so `~1` is not read back as `/`. */
export function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function compare(from: unknown, to: unknown, path: string, changes: PolicyChange[]): void {
  if (isObject(from) && isObject(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
    for (const key of keys) {
      const at = `${path}/${pointerToken(key)}`;
      const inFrom = Object.prototype.hasOwnProperty.call(from, key);
      const inTo = Object.prototype.hasOwnProperty.call(to, key);
      if (inFrom && inTo) compare(from[key], to[key], at, changes);
      else if (inFrom) changes.push({ path: at, op: 'removed', from: from[key], to: null });
      else changes.push({ path: at, op: 'added', from: null, to: to[key] });
    }
    return;
  }
  if (!sameValue(from, to)) changes.push({ path, op: 'changed', from, to });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep equality of JSON values (key order does not matter; array order does). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => sameValue(item, b[i]))
    );
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && sameValue(a[key], b[key]))
    );
  }
  return false;
}
