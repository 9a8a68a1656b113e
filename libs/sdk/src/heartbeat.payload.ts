import { version } from '../package.json';
import type { HeartbeatInput } from './sdk.types';

/** Sent as `sdk` with every heartbeat, so an operator sees which engines run an old SDK. */
export const SDK_IDENTITY = `@bifrost/sdk@${version}`;

/** The heartbeat's own `policyRevision` limit (ingest.HeartbeatReported). */
const POLICY_REVISION_MAX_LENGTH = 200;

/** What the client knows when it sends a heartbeat. */
export interface HeartbeatState {
  /** When the client was created (`uptimeS` counts from it). */
  readonly startedAtMs: number;
  readonly nowMs: number;
  /** The client's `heartbeatIntervalMs`. */
  readonly intervalMs: number;
  /** The default interval, which is not declared (see below). */
  readonly defaultIntervalMs: number;
  /** From the last gate verdict received, if any. */
  readonly policyRevision: string | undefined;
  /** What the engine reported through `activeSessions`, if anything. */
  readonly activeSessions: number | undefined;
}

/**
 * The fields the SDK fills in on every heartbeat (seed 004's payload, in Bifrost's terms); the
 * engine's own fields, given to `heartbeat()`, go on top.
 */
export function heartbeatFields(state: HeartbeatState): HeartbeatInput {
  const fields: HeartbeatInput = {
    sdk: SDK_IDENTITY,
    uptimeS: Math.max(0, Math.floor((state.nowMs - state.startedAtMs) / 1_000)),
  };
  // An interval other than the default is declared, so the canary allows three of it of silence
  // (seed 004) rather than three of the default's; the default one need not be: the canary's
  // default gap already is three of it.
  if (state.intervalMs > 0 && state.intervalMs !== state.defaultIntervalMs) {
    fields.intervalMs = state.intervalMs;
  }
  // A verdict's revision is unbounded in its own schema; one the heartbeat cannot carry is left out
  // rather than making the heartbeat invalid (a heartbeat not sent gets the engine paused).
  const revision = state.policyRevision;
  if (revision !== undefined && revision.length > 0 && revision.length <= POLICY_REVISION_MAX_LENGTH) {
    fields.policyRevision = revision;
  }
  if (isCount(state.activeSessions)) fields.activeSessions = state.activeSessions;
  return fields;
}

/** Whether `value` can be sent as `activeSessions` (a non-negative integer). */
export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
