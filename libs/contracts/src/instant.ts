/**
 * Whether `text` spells an instant exactly as `toISOString` writes it, and one Postgres can store.
 * A pattern alone lets through days a month does not have (2026-02-31, which JavaScript rolls over
 * into March) and year 0000 (Postgres has no year 0).
 */
export function isRealInstant(text: string): boolean {
  const date = new Date(text);
  return !Number.isNaN(date.getTime()) && date.toISOString() === text && date.getUTCFullYear() >= 1;
}
