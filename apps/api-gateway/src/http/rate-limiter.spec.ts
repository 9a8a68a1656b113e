import { TokenBuckets } from './rate-limiter';

describe('token buckets', () => {
  describe('a fresh bucket', () => {
    it('should allow exactly the burst, then refuse with the seconds until the next token', () => {
      const buckets = new TokenBuckets();
      const results = Array.from({ length: 4 }, () => buckets.take('p', LIMIT, T0));

      expect(results.slice(0, 3)).toEqual([{ allowed: true }, { allowed: true }, { allowed: true }]);
      expect(results[3]).toEqual({ allowed: false, retryAfterSeconds: 1 });
    });
  });

  describe('an empty bucket', () => {
    it('should refill at the sustained rate, never above the burst', () => {
      const buckets = new TokenBuckets();
      for (let i = 0; i < 3; i += 1) buckets.take('p', LIMIT, T0);

      expect(buckets.take('p', LIMIT, T0 + 499)).toEqual({ allowed: false, retryAfterSeconds: 1 });
      expect(buckets.take('p', LIMIT, T0 + 1_000)).toEqual({ allowed: true });
      const later = Array.from({ length: 4 }, () => buckets.take('p', LIMIT, T0 + 60_000));
      expect(later.map((r) => r.allowed)).toEqual([true, true, true, false]);
    });

    it('should say how many whole seconds to wait at slow rates', () => {
      const buckets = new TokenBuckets();
      const slow = { perSecond: 0.1, burst: 1 };
      buckets.take('p', slow, T0);

      expect(buckets.take('p', slow, T0)).toEqual({ allowed: false, retryAfterSeconds: 10 });
    });
  });

  describe('requests timed out of order (one waited for its authentication)', () => {
    it('should refill each stretch of time once', () => {
      const buckets = new TokenBuckets();
      const limit = { perSecond: 20, burst: 40 };
      const taken = (at: number) => buckets.take('p', limit, at).allowed;
      for (let i = 0; i < 40; i += 1) taken(T0);

      // Timed at T0 + 500 and at T0, finishing interleaved: 500 ms bring 10 tokens, not 10 per switch.
      const allowed = Array.from({ length: 40 }, (_, i) => taken(i % 2 === 0 ? T0 + 500 : T0)).filter(
        Boolean,
      );

      expect(allowed).toHaveLength(10);
    });
  });

  describe('two principals', () => {
    it('should not share a bucket', () => {
      const buckets = new TokenBuckets();
      for (let i = 0; i < 3; i += 1) buckets.take('a', LIMIT, T0);

      expect(buckets.take('a', LIMIT, T0).allowed).toBe(false);
      expect(buckets.take('b', LIMIT, T0).allowed).toBe(true);
    });
  });

  describe('sweeping', () => {
    it('should drop full buckets and keep the others', () => {
      const buckets = new TokenBuckets();
      buckets.take('idle', LIMIT, T0);
      for (let i = 0; i < 3; i += 1) buckets.take('busy', LIMIT, T0 + 10_000);

      buckets.sweep(() => LIMIT, T0 + 10_000);

      expect(buckets.size).toBe(1);
      expect(buckets.take('busy', LIMIT, T0 + 10_000).allowed).toBe(false);
    });
  });
});

const LIMIT = { perSecond: 2, burst: 3 };
const T0 = 1_700_000_000_000;
