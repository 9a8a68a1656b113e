/** First reconnect delay; each further attempt doubles it. */
export const BACKOFF_INITIAL_MS = 1_000;
/** The nominal delay never grows beyond this (the jitter still applies on top). */
export const BACKOFF_CAP_MS = 60_000;
/** ±20 % around the nominal delay. */
export const BACKOFF_JITTER = 0.2;

/**
 * Delay before reconnect attempt `attempt` (1 for the first retry): 1 s, 2 s, 4 s … capped at 60 s,
 * each spread ±20 % by `random` (a value in [0, 1), 0.5 giving the nominal delay).
 *
 * The jitter applies to the capped delay too: clients that have all reached the cap would otherwise
 * retry in lockstep against a recovering server.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  // NaN (an attempt counter gone wrong) counts as the first attempt, like 0 or less.
  const exponent = Number.isNaN(attempt) ? 0 : Math.max(0, Math.floor(attempt) - 1);
  // 2^6 s already exceeds the cap; bounding the exponent keeps huge attempt counts finite.
  const nominal = Math.min(BACKOFF_CAP_MS, BACKOFF_INITIAL_MS * 2 ** Math.min(exponent, 16));
  const spread = 1 + BACKOFF_JITTER * (2 * clampUnit(random()) - 1);
  return Math.round(nominal * spread);
}

/**
 * `Retry-After` in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when
 * absent or unreadable, 0 for a date already past.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;
  // An HTTP date names its weekday and month; anything else (`-1`, `1.5`) is unreadable.
  const at = /[A-Za-z]/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** The shortest and longest a server's `Retry-After` is honoured for. */
export const RETRY_AFTER_MIN_MS = 100;
export const RETRY_AFTER_MAX_MS = 3_600_000;

/**
 * A server-requested wait, bounded: `Retry-After: 0` must not become a tight loop of requests, and
 * a huge value must not overflow a timer (Node runs a delay above 2³¹−1 ms after 1 ms).
 */
export function boundedRetryAfter(ms: number): number {
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, ms));
}

/**
 * Wait before retry `attempt` (1 for the first) of a decision nobody decided (`nothingDecided` in
 * `@bifrost/contracts`): 100 ms, 200 ms, … 1 s. Both transports retry those within the deadline.
 */
export function undecidedRetryDelay(attempt: number): number {
  return Math.min(1_000, RETRY_AFTER_MIN_MS * 2 ** Math.min(Math.max(0, attempt - 1), 10));
}

function clampUnit(value: number): number {
  if (!Number.isFinite(value)) return 0.5;
  return Math.min(1, Math.max(0, value));
}
