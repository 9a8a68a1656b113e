import { compile, Timestamp } from '@bifrost/contracts';
import { ProblemError } from '../http/problem';

/** When the engine recorded the fact (a buffered fact is sent later); the envelope's occurredAt. */
export const OCCURRED_AT_HEADER = 'occurred-at';
/** A Timestamp: its format also refuses a day the calendar does not have (2026-02-31). */
const isTimestamp = compile(Timestamp);

/**
 * The `occurredAt` of a fact received at `now` with the `Occurred-At` value `header`: the engine's
 * clock for when it happened (a fact buffered through an outage keeps its time), never later than
 * now, and refused when older than `maxAgeMs` (a date no real buffered fact has: past the ingest
 * stream's retention and every window a service judges facts in). Without the header, now.
 */
export function occurredAtOf(header: string | undefined, now: Date, maxAgeMs: number): string {
  const received = now.toISOString();
  if (header === undefined) return received;
  if (!isTimestamp(header).ok) {
    throw new ProblemError(
      'invalid',
      `${OCCURRED_AT_HEADER} must be an RFC 3339 UTC time with milliseconds, got "${header.slice(0, 64)}"`,
      'INGEST.OCCURRED_AT_INVALID',
    );
  }
  const floor = now.getTime() - maxAgeMs;
  if (Date.parse(header) < floor) {
    const oldestAccepted = new Date(floor).toISOString();
    const maxAgeSeconds = maxAgeMs / 1000;
    throw new ProblemError(
      'invalid',
      `${OCCURRED_AT_HEADER} ${header} is older than a fact may be (${maxAgeSeconds} s, GATEWAY_FACT_MAX_AGE_SECONDS): the oldest accepted now is ${oldestAccepted}`,
      'INGEST.OCCURRED_AT_TOO_OLD',
      {},
      undefined,
      { maxAgeSeconds, oldestAccepted },
    );
  }
  return header < received ? header : received;
}
