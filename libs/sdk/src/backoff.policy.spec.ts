import { backoffDelay, BACKOFF_CAP_MS, parseRetryAfter, undecidedRetryDelay } from './backoff.policy';

describe('Reconnect backoff', () => {
  describe('without jitter (random = 0.5)', () => {
    it('should double from 1 s: 1, 2, 4, 8, 16, 32 s for attempts 1 to 6', () => {
      expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, mid))).toEqual([
        1_000, 2_000, 4_000, 8_000, 16_000, 32_000,
      ]);
    });

    it('should cap at 60 s from attempt 7 on, however many attempts', () => {
      expect([7, 8, 50, 10_000].map((a) => backoffDelay(a, mid))).toEqual([
        BACKOFF_CAP_MS,
        BACKOFF_CAP_MS,
        BACKOFF_CAP_MS,
        BACKOFF_CAP_MS,
      ]);
    });

    it('should treat attempt 0 or less as the first attempt', () => {
      expect(backoffDelay(0, mid)).toBe(1_000);
      expect(backoffDelay(-3, mid)).toBe(1_000);
    });

    it('should treat an attempt that is not a number as the first attempt, never a NaN delay', () => {
      expect(backoffDelay(Number.NaN, mid)).toBe(1_000);
    });
  });

  describe('with jitter', () => {
    it('should be 20 % shorter at the lowest random value', () => {
      expect(backoffDelay(1, () => 0)).toBe(800);
      expect(backoffDelay(7, () => 0)).toBe(48_000);
    });

    it('should be 20 % longer at the highest random value, also at the cap', () => {
      expect(backoffDelay(1, () => 1)).toBe(1_200);
      expect(backoffDelay(7, () => 1)).toBe(72_000);
    });

    it('should stay within ±20 % of the nominal delay for any random value', () => {
      for (let attempt = 1; attempt <= 10; attempt += 1) {
        const nominal = backoffDelay(attempt, mid);
        for (const r of [0, 0.001, 0.25, 0.75, 0.999, Math.random()]) {
          const delay = backoffDelay(attempt, () => r);
          expect(delay).toBeGreaterThanOrEqual(nominal * 0.8);
          expect(delay).toBeLessThanOrEqual(nominal * 1.2);
        }
      }
    });

    it('should clamp a random source that strays outside [0, 1]', () => {
      expect(backoffDelay(2, () => -5)).toBe(1_600);
      expect(backoffDelay(2, () => 7)).toBe(2_400);
      expect(backoffDelay(2, () => Number.NaN)).toBe(2_000);
    });
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-11-21T20:00:00.000Z');

  it('should read delta-seconds as milliseconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
  });

  it('should read an HTTP date as the time left until it', () => {
    expect(parseRetryAfter('Sat, 21 Nov 2026 20:00:05 GMT', now)).toBe(5_000);
  });

  it('should give 0 for a date already past', () => {
    expect(parseRetryAfter('Sat, 21 Nov 2026 19:59:00 GMT', now)).toBe(0);
  });

  it('should give undefined when absent or unreadable', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
  });
});

const mid = () => 0.5;

describe('undecidedRetryDelay', () => {
  it('should wait 100 ms, then twice as long each time, at most 1 s', () => {
    expect([1, 2, 3, 4, 5, 50].map(undecidedRetryDelay)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });
});
