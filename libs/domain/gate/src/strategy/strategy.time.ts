import { ValidationError } from '@bifrost/event-sourcing';

/**
 * Milliseconds of an RFC 3339 timestamp. Every time the gate hands the strategy is one (its clock's,
 * a request's validated as `Timestamp`, an event's): an unreadable one is a broken caller, refused
 * with no code of its own.
 */
export function millis(timestamp: string, field = 'time'): number {
  const value = Date.parse(timestamp);
  if (Number.isNaN(value)) throw new ValidationError(`${field} "${timestamp}" is not an RFC 3339 timestamp`);
  return value;
}

/** `timestamp` + `ms`, as RFC 3339 UTC with milliseconds (no clock is read). */
export function addMillis(timestamp: string, ms: number): string {
  return new Date(millis(timestamp) + ms).toISOString();
}

export function isBefore(a: string, b: string): boolean {
  return millis(a) < millis(b);
}
