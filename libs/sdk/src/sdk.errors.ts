/** Codes the SDK itself produces (remote codes such as `RISK.RESERVATION_CLOSED` pass through unchanged). */
export const SDK_ERROR_CODES = {
  /** No answer within the deadline, or one read after it (not used). */
  deadlineExceeded: 'SDK.DEADLINE_EXCEEDED',
  /** The transport is down (NATS not connected, gateway unreachable). */
  disconnected: 'SDK.DISCONNECTED',
  /** Reached Bifrost, but the service behind it is not running (NATS no responders, HTTP 503). */
  serviceUnavailable: 'SDK.SERVICE_UNAVAILABLE',
  /** HTTP 429 whose Retry-After does not fit in the deadline. */
  rateLimited: 'SDK.RATE_LIMITED',
  /** The reply is not a Bifrost reply, or its data breaks the operation's reply schema. */
  malformedReply: 'SDK.MALFORMED_REPLY',
  /** The request does not match its schema (it was not sent), or `awaitApproval`'s options are out of range. */
  invalidRequest: 'SDK.INVALID_REQUEST',
  /** A fact does not match its message schema; it was not buffered. */
  invalidFact: 'SDK.INVALID_FACT',
  /** The fact kind has no message type in the catalogue of this Bifrost version. */
  unsupportedFact: 'SDK.UNSUPPORTED_FACT',
  /** The client gave up connecting (`maxReconnectAttempts`) and will not try again: close it, create another. */
  connectionFailed: 'SDK.CONNECTION_FAILED',
  /** The client was closed. */
  closed: 'SDK.CLOSED',
  /** createClient options are wrong. */
  invalidConfig: 'SDK.INVALID_CONFIG',
} as const;

/** A failure the engine has to handle: bad input, a closed client, or a refused settle/release/reconcile. */
export class SdkError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'SdkError';
  }
}
