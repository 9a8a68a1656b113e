/**
 * A map kept as plain JSON that `evolve` can update without copying everything: entries are
 * spread over a fixed number of buckets, so a write copies one bucket and the bucket index.
 * A day's ledger remembers every reservation (idempotency); copying one object of that size on
 * every event would make evolving quadratic.
 */
export type BucketMap<V> = Readonly<Record<string, Readonly<Record<string, V>>>>;

const BUCKETS = 64;

function bucketOf(key: string): string {
  let hash = 0;
  for (let i = 0; i < key.length; i += 1) hash = (hash * 31 + key.charCodeAt(i)) | 0;
  return `b${(hash >>> 0) % BUCKETS}`;
}

export function emptyBucketMap<V>(): BucketMap<V> {
  return {};
}

export function bucketGet<V>(map: BucketMap<V>, key: string): V | undefined {
  return map[bucketOf(key)]?.[key];
}

export function bucketSet<V>(map: BucketMap<V>, key: string, value: V): BucketMap<V> {
  const bucket = bucketOf(key);
  return { ...map, [bucket]: { ...map[bucket], [key]: value } };
}

export function bucketSize<V>(map: BucketMap<V>): number {
  return Object.values(map).reduce((n, bucket) => n + Object.keys(bucket).length, 0);
}

export function bucketDelete<V>(map: BucketMap<V>, key: string): BucketMap<V> {
  const bucket = bucketOf(key);
  const entries = map[bucket];
  if (!entries || !(key in entries)) return map;
  const { [key]: _removed, ...rest } = entries;
  return { ...map, [bucket]: rest };
}

export function bucketValues<V>(map: BucketMap<V>): V[] {
  return Object.values(map).flatMap((bucket) => Object.values(bucket));
}
