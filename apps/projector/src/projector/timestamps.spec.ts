import { isRealInstant } from '@bifrost/contracts';
import { impossibleTimestamp } from './timestamps';

describe('timestamps the projector writes to timestamptz', () => {
  describe('isRealInstant', () => {
    it('should accept instants as the contracts spell them, from year 1 to 9999', () => {
      expect(isRealInstant('2026-11-21T20:42:55.123Z')).toBe(true);
      expect(isRealInstant('2028-02-29T00:00:00.000Z')).toBe(true);
      expect(isRealInstant('0001-01-01T00:00:00.000Z')).toBe(true);
      expect(isRealInstant('9999-12-31T23:59:59.999Z')).toBe(true);
    });

    it('should refuse a day the month does not have, and year 0000', () => {
      expect(isRealInstant('2026-02-31T10:00:00.000Z')).toBe(false);
      expect(isRealInstant('2026-02-29T10:00:00.000Z')).toBe(false);
      expect(isRealInstant('2026-04-31T10:00:00.000Z')).toBe(false);
      expect(isRealInstant('0000-01-01T00:00:00.000Z')).toBe(false);
    });

    it('should refuse what the Timestamp pattern does not spell: a sixth year digit, hour 24, no milliseconds', () => {
      expect(isRealInstant('+012026-11-21T20:42:55.123Z')).toBe(false);
      expect(isRealInstant('2026-11-21T24:00:00.000Z')).toBe(false);
      expect(isRealInstant('2026-11-21T20:42:60.000Z')).toBe(false);
      expect(isRealInstant('2026-11-21T20:42:55Z')).toBe(false);
    });
  });

  describe('impossibleTimestamp', () => {
    it('should name the first impossible timestamp and where it is, however deep', () => {
      const data = {
        pausedAt: '2026-11-21T20:42:55.123Z',
        entries: [
          { data: { at: '2026-11-21T20:42:55.123Z' } },
          { data: { settledAt: '2026-06-31T00:00:00.000Z' } },
        ],
      };
      expect(impossibleTimestamp(data, 'data')).toEqual({
        path: 'data.entries[1].data.settledAt',
        value: '2026-06-31T00:00:00.000Z',
      });
    });

    it('should find nothing in real instants and in strings that are not timestamps', () => {
      const data = {
        at: '2026-11-21T20:42:55.123Z',
        day: '2026-02-31',
        note: 'due 2026-02-31T10:00',
        n: 3,
        none: null,
      };
      expect(impossibleTimestamp(data, 'data')).toBeUndefined();
    });
  });
});
