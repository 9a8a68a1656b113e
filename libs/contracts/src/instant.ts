const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether `text` spells an instant exactly as `toISOString` writes it, and one Postgres can store.
 * A pattern alone lets through days a month does not have (2026-02-31, which JavaScript rolls over
 * into March) and year 0000 (Postgres has no year 0). Checked field by field rather than by a
 * round trip through `Date` (every timestamp of every message is checked: this is the cheaper way).
 */
export function isRealInstant(text: string): boolean {
  const fields = INSTANT.exec(text);
  if (fields === null) return false;
  const [year, month, day, hour, minute, second] = fields.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  return (
    year >= 1 &&
    monthDays !== undefined &&
    day >= 1 &&
    day <= monthDays &&
    hour < 24 &&
    minute < 60 &&
    second < 60
  );
}
