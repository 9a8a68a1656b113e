import { bucketDelete, bucketGet, bucketSet, bucketSize, bucketValues, emptyBucketMap } from './bucket-map';

describe('Bucket map', () => {
  describe('Given an empty map', () => {
    it('should find nothing and hold nothing', () => {
      const map = emptyBucketMap<number>();
      expect(bucketGet(map, 'a')).toBeUndefined();
      expect(bucketSize(map)).toBe(0);
      expect(bucketValues(map)).toEqual([]);
      expect(bucketDelete(map, 'a')).toBe(map);
    });
  });

  describe('Given many keys written one by one', () => {
    it('should find every one, leave earlier versions untouched and survive a JSON round trip', () => {
      const before = fill(5_000);
      const after = bucketSet(before, 'key-42', -1);
      expect(bucketGet(before, 'key-42')).toBe(42);
      expect(bucketGet(after, 'key-42')).toBe(-1);
      expect(bucketSize(after)).toBe(5_000);
      const revived = JSON.parse(JSON.stringify(after)) as typeof after;
      for (let i = 0; i < 5_000; i += 1) expect(bucketGet(revived, `key-${i}`)).toBe(i === 42 ? -1 : i);
      expect(bucketValues(revived).sort((a, b) => a - b)).toEqual([
        -1,
        ...range(5_000).filter((i) => i !== 42),
      ]);
    });

    it('should keep every leaf short at a busy day of 200 000 keys', () => {
      // A leaf is scanned and copied on every write: its length is what a write costs.
      const leafLengths: number[] = [];
      const walk = (node: unknown): void => {
        if (!Array.isArray(node)) return;
        if (node.some((child) => Array.isArray(child) && typeof child[0] === 'string'))
          leafLengths.push(node.length);
        else node.forEach(walk);
      };
      walk(fill(200_000));
      expect(leafLengths.reduce((a, b) => a + b, 0)).toBe(200_000);
      expect(Math.max(...leafLengths)).toBeLessThanOrEqual(16);
    });

    it('should remove a deleted key only', () => {
      const map = bucketDelete(fill(100), 'key-7');
      expect(bucketGet(map, 'key-7')).toBeUndefined();
      expect(bucketGet(map, 'key-8')).toBe(8);
      expect(bucketSize(map)).toBe(99);
    });
  });
});

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function fill(n: number) {
  return range(n).reduce((map, i) => bucketSet(map, `key-${i}`, i), emptyBucketMap<number>());
}
