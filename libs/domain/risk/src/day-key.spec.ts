import { ValidationError } from '@bifrost/event-sourcing';
import { assertTimeZone, dayKey } from './day-key';

describe('Ledger day', () => {
  describe('Given the default UTC boundary', () => {
    it('should put the last millisecond before midnight on the old day and midnight on the new one', () => {
      expect(dayKey('2026-11-21T23:59:59.999Z', 'UTC')).toBe('2026-11-21');
      expect(dayKey('2026-11-22T00:00:00.000Z', 'UTC')).toBe('2026-11-22');
    });
  });

  describe('Given consecutive instants within one second', () => {
    it('should still change day on the first millisecond of the new day', () => {
      expect(dayKey('2026-11-21T23:59:59.000Z', 'UTC')).toBe('2026-11-21');
      expect(dayKey('2026-11-21T23:59:59.999Z', 'UTC')).toBe('2026-11-21');
      expect(dayKey('2026-11-22T00:00:00.000Z', 'UTC')).toBe('2026-11-22');
      expect(dayKey('2026-11-22T00:00:00.000Z', 'Asia/Tokyo')).toBe('2026-11-22');
      expect(dayKey('2026-11-22T00:00:00.001Z', 'America/New_York')).toBe('2026-11-21');
    });
  });

  describe('Given a time zone', () => {
    it('should use local midnight, across daylight saving changes', () => {
      expect(dayKey('2026-11-22T04:59:59.999Z', 'America/New_York')).toBe('2026-11-21');
      expect(dayKey('2026-11-22T05:00:00.000Z', 'America/New_York')).toBe('2026-11-22');
      expect(dayKey('2026-07-01T03:59:59.999Z', 'America/New_York')).toBe('2026-06-30');
      expect(dayKey('2026-07-01T04:00:00.000Z', 'America/New_York')).toBe('2026-07-01');
      expect(dayKey('2026-11-21T15:00:00.000Z', 'Asia/Tokyo')).toBe('2026-11-22');
    });

    it('should reject an unknown zone', () => {
      expect(() => assertTimeZone('Mars/Olympus')).toThrow(ValidationError);
      expect(() => dayKey('2026-11-21T00:00:00.000Z', 'Mars/Olympus')).toThrow(/unknown time zone/);
    });
  });
});
