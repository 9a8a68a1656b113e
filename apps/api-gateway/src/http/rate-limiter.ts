/** Sustained rate and burst of one bucket. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets in memory, one per principal: each request takes a token, tokens come back at
 * `perSecond` up to `burst`. Per instance by design: N gateway instances allow N× the rate.
 * Buckets that have refilled completely are dropped by `sweep` so idle principals cost nothing.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  take(key: string, limit: RateLimit, nowMs: number): RateDecision {
    const bucket = this.buckets.get(key) ?? { tokens: limit.burst, updatedAt: nowMs };
    // A request timed before the last one taken (it waited for its authentication meanwhile) refills
    // nothing, and does not move the bucket's time back: that stretch would be refilled twice.
    if (nowMs > bucket.updatedAt) {
      bucket.tokens = Math.min(
        limit.burst,
        bucket.tokens + ((nowMs - bucket.updatedAt) / 1000) * limit.perSecond,
      );
      bucket.updatedAt = nowMs;
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond)),
    };
  }

  sweep(limitOf: (key: string) => RateLimit, nowMs: number): void {
    for (const [key, bucket] of this.buckets) {
      const limit = limitOf(key);
      if (bucket.tokens + ((nowMs - bucket.updatedAt) / 1000) * limit.perSecond >= limit.burst) {
        this.buckets.delete(key);
      }
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}
