import { nextWeeklyRun, parseWeeklySchedule } from './weekly-schedule';

describe('weekly schedule', () => {
  const friday = parseWeeklySchedule('FRI 17:00');

  it('should parse day and UTC time, and refuse anything else', () => {
    expect(friday).toEqual({ weekday: 5, hour: 17, minute: 0 });
    expect(parseWeeklySchedule('monday 9:30')).toEqual({ weekday: 1, hour: 9, minute: 30 });
    for (const bad of ['FRI', 'XYZ 17:00', 'FRI 24:00', 'FRI 17:60', '']) {
      expect(() => parseWeeklySchedule(bad)).toThrow(
        expect.objectContaining({ code: 'GOVERNANCE.BAD_SCHEDULE' }),
      );
    }
  });

  it.each([
    ['a Wednesday', '2026-11-18T08:00:00.000Z', '2026-11-20T17:00:00.000Z'],
    ['Friday morning', '2026-11-20T09:00:00.000Z', '2026-11-20T17:00:00.000Z'],
    ['the very instant', '2026-11-20T17:00:00.000Z', '2026-11-27T17:00:00.000Z'],
    ['Friday evening', '2026-11-20T17:00:00.001Z', '2026-11-27T17:00:00.000Z'],
    ['Saturday', '2026-11-21T00:00:00.000Z', '2026-11-27T17:00:00.000Z'],
    ['across a year end', '2026-12-29T00:00:00.000Z', '2027-01-01T17:00:00.000Z'],
  ])('should run next, after %s, on the coming Friday 17:00 UTC', (_name, after, expected) => {
    expect(nextWeeklyRun(friday, new Date(after)).toISOString()).toBe(expected);
  });
});
