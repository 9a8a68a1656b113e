import { ValidationError } from '@bifrost/event-sourcing';

/** Milliseconds of an RFC 3339 timestamp; a command with an unreadable time is refused. */
export function millis(timestamp: string, field = 'time'): number {
  const value = Date.parse(timestamp);
  if (Number.isNaN(value)) {
    throw new ValidationError(`${field} "${timestamp}" is not an RFC 3339 timestamp`, {
      code: 'GATE.INVALID_TIME',
    });
  }
  return value;
}

/** `timestamp` + `ms`, as RFC 3339 UTC with milliseconds (no clock is read). */
export function addMillis(timestamp: string, ms: number): string {
  return new Date(millis(timestamp) + ms).toISOString();
}

export function isBefore(a: string, b: string): boolean {
  return millis(a) < millis(b);
}
