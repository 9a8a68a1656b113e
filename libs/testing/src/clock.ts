const DAY_MS = 86_400_000;

/**
 * Waits, when fewer than `marginMs` are left of the current UTC day, until the next day has begun.
 * Returns the milliseconds waited.
 */
export async function clearOfMidnight(marginMs: number, now: () => number = Date.now): Promise<number> {
  const left = DAY_MS - (now() % DAY_MS);
  if (left >= marginMs) return 0;
  const waitMs = left + 1_000;
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  return waitMs;
}

/**
 * For a suite whose services book by UTC day (the risk ledger, heimdall's daily stats, canary
 * summaries) and whose assertions name "today": called first in the suite's `describe`, it starts
 * the suite only with at least `marginMs` (longer than the suite takes) left of the day, so the
 * whole suite runs within one day. Near midnight it waits for the next day, at most
 * `marginMs` + 1 s.
 */
export function withinOneUtcDay(marginMs = 180_000): void {
  beforeAll(() => clearOfMidnight(marginMs), marginMs + 5_000);
}
