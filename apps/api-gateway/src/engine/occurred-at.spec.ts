import { ProblemError } from '../http/problem';
import { occurredAtOf } from './occurred-at';

const NOW = new Date('2026-12-06T12:00:00.000Z');
const DAY_MS = 86_400_000;
const MAX_AGE_MS = 30 * DAY_MS;
/** `NOW` minus `ms` milliseconds. */
const before = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

const refusalOf = (header: string): ProblemError => {
  try {
    occurredAtOf(header, NOW, MAX_AGE_MS);
  } catch (error) {
    return error as ProblemError;
  }
  throw new Error(`${header} was accepted`);
};

describe('Occurred-At of an engine fact', () => {
  describe('Given a fact dated within the maximum age (30 days)', () => {
    it('should keep the engine’s time, exactly 30 days old included', () => {
      expect(occurredAtOf(before(DAY_MS), NOW, MAX_AGE_MS)).toBe(before(DAY_MS));
      expect(occurredAtOf(before(MAX_AGE_MS), NOW, MAX_AGE_MS)).toBe(before(MAX_AGE_MS));
    });
  });

  describe('Given a fact older than the maximum age', () => {
    it('should refuse it one millisecond past the limit, naming the header and the limit', () => {
      const refusal = refusalOf(before(MAX_AGE_MS + 1));

      expect(refusal).toBeInstanceOf(ProblemError);
      expect(refusal).toMatchObject({
        kind: 'invalid',
        code: 'INGEST.OCCURRED_AT_TOO_OLD',
        message: `occurred-at ${before(MAX_AGE_MS + 1)} is older than a fact may be (2592000 s, GATEWAY_FACT_MAX_AGE_SECONDS): the oldest accepted now is ${before(MAX_AGE_MS)}`,
        details: { maxAgeSeconds: 2_592_000, oldestAccepted: before(MAX_AGE_MS) },
      });
    });

    it('should refuse the first day of year 1', () => {
      expect(refusalOf('0001-01-01T00:00:00.000Z')).toMatchObject({ code: 'INGEST.OCCURRED_AT_TOO_OLD' });
    });
  });

  describe('Given a fact dated in the future', () => {
    it('should take it as now', () => {
      expect(occurredAtOf('9999-12-31T23:59:59.999Z', NOW, MAX_AGE_MS)).toBe(NOW.toISOString());
    });
  });

  describe('Given no header', () => {
    it('should date the fact now', () => {
      expect(occurredAtOf(undefined, NOW, MAX_AGE_MS)).toBe(NOW.toISOString());
    });
  });

  describe('Given a header that is no time', () => {
    it('should refuse it as invalid', () => {
      expect(refusalOf('2026-02-31T00:00:00.000Z')).toMatchObject({ code: 'INGEST.OCCURRED_AT_INVALID' });
    });
  });
});
