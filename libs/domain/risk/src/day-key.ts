import { ValidationError } from '@bifrost/event-sourcing';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-CA', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      });
    } catch {
      throw new ValidationError(`unknown time zone "${timeZone}"`, { code: 'RISK.TIME_ZONE_UNKNOWN' });
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Throws `RISK.TIME_ZONE_UNKNOWN` unless `timeZone` is an IANA zone this runtime knows. */
export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

/** The ledger day (`YYYY-MM-DD`) an instant falls on in `timeZone`: the day boundary is local midnight. */
export function dayKey(at: string, timeZone: string): string {
  const millis = Date.parse(at);
  if (Number.isNaN(millis)) throw new ValidationError(`invalid timestamp "${at}"`);
  // UTC offsets are whole seconds (even historical local mean time), so one second has one date.
  // Formatting is the ledger's costliest step per command; consecutive commands share the second.
  const second = Math.floor(millis / 1000);
  const cached = lastDays.get(timeZone);
  if (cached?.second === second) return cached.day;
  const parts = formatterFor(timeZone).formatToParts(millis);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const day = `${part('year')}-${part('month')}-${part('day')}`;
  lastDays.set(timeZone, { second, day });
  return day;
}

const lastDays = new Map<string, { second: number; day: string }>();

export function addMillis(at: string, ms: number): string {
  return new Date(Date.parse(at) + ms).toISOString();
}

export function isAtOrAfter(at: string, reference: string): boolean {
  return Date.parse(at) >= Date.parse(reference);
}
