import { ValidationError } from '@bifrost/event-sourcing';

const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

/** A weekly point in time, UTC: weekday (0 = Sunday) and time of day. */
export interface WeeklySchedule {
  readonly weekday: number;
  readonly hour: number;
  readonly minute: number;
}

/** Parses `FRI 17:00` (day names in English, any case; 24-hour UTC time). */
export function parseWeeklySchedule(text: string): WeeklySchedule {
  const match = /^\s*([A-Za-z]{3})[A-Za-z]*\s+(\d{1,2}):(\d{2})\s*$/.exec(text);
  const weekday = match ? DAYS.indexOf(match[1]?.toUpperCase() as (typeof DAYS)[number]) : -1;
  const hour = Number(match?.[2]);
  const minute = Number(match?.[3]);
  if (!match || weekday < 0 || hour > 23 || minute > 59) {
    throw new ValidationError(`"${text}" is not a weekly schedule like "FRI 17:00" (UTC)`, {
      code: 'GOVERNANCE.BAD_SCHEDULE',
    });
  }
  return { weekday, hour, minute };
}

/** The first scheduled instant strictly after `after`. */
export function nextWeeklyRun(schedule: WeeklySchedule, after: Date): Date {
  const candidate = new Date(
    Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate(), schedule.hour, schedule.minute),
  );
  candidate.setUTCDate(candidate.getUTCDate() + ((schedule.weekday - candidate.getUTCDay() + 7) % 7));
  if (candidate.getTime() <= after.getTime()) candidate.setUTCDate(candidate.getUTCDate() + 7);
  return candidate;
}
