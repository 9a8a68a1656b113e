export {
  createClient,
  BifrostClient,
  DEFAULT_APPROVAL_POLL_MS,
  DEFAULT_BUFFER_MAX_ITEMS,
  DEFAULT_DEADLINE_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  MIN_APPROVAL_POLL_MS,
} from './bifrost.client';
export {
  backoffDelay,
  parseRetryAfter,
  BACKOFF_CAP_MS,
  BACKOFF_INITIAL_MS,
  BACKOFF_JITTER,
} from './backoff.policy';
export { MIN_HELD_CONNECTION_MS } from './connection.loop';
export { TelemetryBuffer } from './telemetry.buffer';
export { SdkError, SDK_ERROR_CODES } from './sdk.errors';
export type * from './sdk.types';
