/** Stable error codes: upper-case dotted, `<AREA>.<REASON>`, e.g. `RISK.LIMIT_EXCEEDED`. */
export const ERROR_CODE_PATTERN = /^[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)+$/;

export interface BifrostErrorOptions {
  /** Overrides the class's default code with a more specific one (`RISK.LIMIT_EXCEEDED`). */
  readonly code?: string;
  /** Safe to show to the caller: it travels in error replies and problem documents. */
  readonly details?: unknown;
  readonly cause?: unknown;
}

/** The body of an error reply (`{ ok: false, error }`), mirroring `ErrorBody` in `@bifrost/contracts`. */
export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

/**
 * Base of Bifrost's error vocabulary. Domain and adapter code throw these; they become NATS error
 * replies or RFC 9457 problems only at the edges, by `code`.
 */
export abstract class BifrostError extends Error {
  readonly code: string;
  readonly details?: unknown;

  protected constructor(message: string, defaultCode: string, options: BifrostErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const code = options.code ?? defaultCode;
    if (!ERROR_CODE_PATTERN.test(code))
      throw new TypeError(`invalid error code "${code}": expected e.g. RISK.LIMIT_EXCEEDED`);
    this.code = code;
    this.name = new.target.name;
    if (options.details !== undefined) this.details = options.details;
  }
}

/** Input does not satisfy its schema or a precondition the caller could have checked. */
export class ValidationError extends BifrostError {
  constructor(message: string, options?: BifrostErrorOptions) {
    super(message, 'VALIDATION.FAILED', options);
  }
}

/** The command is not allowed in the aggregate's current state (a broken invariant). */
export class IllegalStateError extends BifrostError {
  constructor(message: string, options?: BifrostErrorOptions) {
    super(message, 'STATE.ILLEGAL', options);
  }
}

export class NotFoundError extends BifrostError {
  constructor(message: string, options?: BifrostErrorOptions) {
    super(message, 'NOT_FOUND.ENTITY', options);
  }
}

/** Someone appended to the stream first: reload, decide again, retry (bounded). */
export class ConcurrencyError extends BifrostError {
  constructor(
    message: string,
    options: BifrostErrorOptions & {
      readonly expectedSequence?: number;
      readonly actualSequence?: number;
    } = {},
  ) {
    const { expectedSequence, actualSequence, ...rest } = options;
    const sequences =
      expectedSequence === undefined && actualSequence === undefined
        ? undefined
        : { expectedSequence, actualSequence };
    super(message, 'CONCURRENCY.CONFLICT', {
      ...rest,
      details: rest.details ?? sequences,
    });
  }
}

export class UnauthorizedError extends BifrostError {
  constructor(message: string, options?: BifrostErrorOptions) {
    super(message, 'AUTH.UNAUTHORIZED', options);
  }
}

export class ForbiddenError extends BifrostError {
  constructor(message: string, options?: BifrostErrorOptions) {
    super(message, 'AUTH.FORBIDDEN', options);
  }
}

/**
 * Refuses an operator command whose actor is not an operator (`<AREA>.OPERATOR_ONLY`, 403 at the
 * gateway): the gateway always sends the operator it authenticated, and an engine on the bus must
 * not steer what governs it.
 */
export function requireOperatorActor(actor: { readonly kind: string }, message: string, code: string): void {
  if (actor.kind !== 'operator') throw new ForbiddenError(message, { code });
}

/** A dependency (NATS, Postgres, another service) is unavailable: the same request may succeed later. */
export class TransientError extends BifrostError {
  constructor(message: string, options?: BifrostErrorOptions) {
    super(message, 'INFRA.UNAVAILABLE', options);
  }
}

/** A bug or an unexpected condition; its message is still safe to show. */
export class InternalError extends BifrostError {
  constructor(message: string, options?: BifrostErrorOptions) {
    super(message, 'INTERNAL.ERROR', options);
  }
}

/**
 * A failure of the infrastructure (a write JetStream refused or did not acknowledge, a concurrent
 * append), not of the request and not a bug: worth trying again for as long as it takes.
 */
export function isInfraFailure(error: unknown): error is TransientError | ConcurrencyError {
  return error instanceof TransientError || error instanceof ConcurrencyError;
}

export function isBifrostError(error: unknown): error is BifrostError {
  return error instanceof BifrostError;
}

/**
 * Maps anything thrown to an error body. Only Bifrost errors speak for themselves; anything else
 * may carry internals (SQL, hostnames, stacks), so the caller gets a generic message and the
 * original stays in the logs.
 */
export function toErrorBody(error: unknown): ErrorBody {
  if (!isBifrostError(error)) return { code: 'INTERNAL.ERROR', message: 'internal error' };
  return error.details === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, details: error.details };
}

/**
 * Whether retrying the same message can succeed. The consume loop terminates permanent failures
 * (the message is bad, redelivery would fail again) and naks transient ones with a delay; an
 * unknown error counts as transient so that a bug is retried up to `max_deliver` and then
 * parked on the DLQ rather than dropped at the first attempt.
 */
export function errorKind(error: unknown): 'permanent' | 'transient' {
  return error instanceof ValidationError ||
    error instanceof IllegalStateError ||
    error instanceof NotFoundError ||
    error instanceof UnauthorizedError ||
    error instanceof ForbiddenError
    ? 'permanent'
    : 'transient';
}
