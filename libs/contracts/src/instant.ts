const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether `text` spells an instant exactly as `toISOString` writes it, and one Postgres can store.
 * A pattern alone lets through days a month does not have (2026-02-31, which JavaScript rolls over
 * into March) and year 0000 (Postgres has no year 0). Checked field by field rather than by a
 * round trip through `Date`, and the fields read from their digits rather than captured (every
 * timestamp of every message is checked: this is the cheaper way).
 */
export function isRealInstant(text: string): boolean {
  if (!INSTANT.test(text)) return false;
  const field = (from: number, length: number): number => {
    let value = 0;
    for (let i = from; i < from + length; i += 1) value = value * 10 + text.charCodeAt(i) - 48;
    return value;
  };
  const year = field(0, 4);
  const month = field(5, 2);
  const day = field(8, 2);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  return (
    year >= 1 &&
    monthDays !== undefined &&
    day >= 1 &&
    day <= monthDays &&
    field(11, 2) < 24 &&
    field(14, 2) < 60 &&
    field(17, 2) < 60
  );
}
