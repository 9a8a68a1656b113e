/**
 * A map kept as plain JSON that `evolve` can update without copying everything: a fixed trie of
 * arrays, FANOUT^LEVELS leaves chosen by a hash of the key, each leaf an array of `[key, value]`
 * pairs. A write copies one small array per level plus one leaf. A day's ledger remembers every
 * reservation (idempotency); copying one object of that size on every event would make evolving
 * quadratic, and a single level of 64 object buckets still copied ~N/64 entries per write (a fifth
 * of risk-guard's CPU at ~15 000 reservations). Four levels (65 536 leaves) keep a leaf to a few
 * entries up to a few hundred thousand reservations a day: at three, scanning and copying leaves of
 * 20–40 entries was most of a reservation's time in the ledger. Arrays, not objects keyed by ids:
 * every distinct key would give V8 another hidden class.
 */
export type BucketMap<V> = readonly (
  | readonly (readonly (readonly (Leaf<V> | null)[] | null)[] | null)[]
  | null
)[];
type Leaf<V> = readonly (readonly [string, V])[];

const FANOUT = 16;
/** Matches the nesting of `BucketMap`. */
const LEVELS = 4;

type Node = readonly unknown[];

function pathOf(key: string): number[] {
  let hash = 0;
  for (let i = 0; i < key.length; i += 1) hash = (Math.imul(hash, 31) + key.charCodeAt(i)) | 0;
  // Finaliser of MurmurHash3: spreads similar keys (uuidv7 ids share their time prefix) over the slots.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  const path: number[] = [];
  for (let level = 0; level < LEVELS; level += 1) path.push((hash >>> (4 * level)) & (FANOUT - 1));
  return path;
}

export function emptyBucketMap<V>(): BucketMap<V> {
  return [];
}

export function bucketGet<V>(map: BucketMap<V>, key: string): V | undefined {
  const leaf = leafOf(map, pathOf(key));
  if (!leaf) return undefined;
  // Plain loops: this runs several times per ledger entry.
  for (const entry of leaf) if (entry[0] === key) return entry[1];
  return undefined;
}

export function bucketSet<V>(map: BucketMap<V>, key: string, value: V): BucketMap<V> {
  return write(map, pathOf(key), 0, (leaf: Leaf<V>) => [...without(leaf, key), [key, value]]);
}

export function bucketDelete<V>(map: BucketMap<V>, key: string): BucketMap<V> {
  const path = pathOf(key);
  if (bucketGet(map, key) === undefined) return map;
  return write(map, path, 0, (leaf: Leaf<V>) => without(leaf, key));
}

export function bucketSize<V>(map: BucketMap<V>): number {
  return leaves(map).reduce((n, leaf) => n + leaf.length, 0);
}

export function bucketValues<V>(map: BucketMap<V>): V[] {
  const values: V[] = [];
  for (const leaf of leaves(map)) for (const entry of leaf) values.push(entry[1] as V);
  return values;
}

function without<V>(leaf: Leaf<V>, key: string): (readonly [string, V])[] {
  const kept: (readonly [string, V])[] = [];
  for (const entry of leaf) if (entry[0] !== key) kept.push(entry);
  return kept;
}

function leafOf<V>(map: BucketMap<V>, path: number[]): Leaf<V> | undefined {
  let node: Node | null | undefined = map;
  for (const slot of path) node = node?.[slot] as Node | null | undefined;
  return (node ?? undefined) as Leaf<V> | undefined;
}

/** Copies the arrays along `path` only; JSON has no holes, so empty slots are `null`. */
function write<V, M>(
  node: Node | null | undefined,
  path: number[],
  level: number,
  change: (leaf: Leaf<V>) => Leaf<V>,
): M {
  if (level === path.length) return change((node ?? []) as Leaf<V>) as M;
  const slot = path[level] as number;
  const copy: unknown[] = node ? [...node] : [];
  while (copy.length < slot) copy.push(null);
  copy[slot] = write(node?.[slot] as Node | null | undefined, path, level + 1, change);
  return copy as M;
}

function leaves(node: Node | null | undefined, level = 0, found: Leaf<unknown>[] = []): Leaf<unknown>[] {
  if (!node) return found;
  if (level === LEVELS) found.push(node as Leaf<unknown>);
  else for (const child of node) leaves(child as Node | null, level + 1, found);
  return found;
}
