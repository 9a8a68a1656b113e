import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Error half of every request-reply answer: a stable code, a human message, optional details. */
export const ErrorBody = Type.Object(
  {
    code: Type.String({ pattern: '^[A-Z][A-Z0-9_]*(\\.[A-Z0-9_]+)+$', examples: ['RPC.VALIDATION_FAILED'] }),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const ErrorReply = Type.Object(
  { ok: Type.Literal(false), error: ErrorBody },
  { additionalProperties: false },
);
export type ErrorReply = Static<typeof ErrorReply>;

export function okReplyOf<D extends TSchema>(data: D) {
  return Type.Object({ ok: Type.Literal(true), data }, { additionalProperties: false });
}
export function replyOf<D extends TSchema>(data: D) {
  return Type.Union([okReplyOf(data), ErrorReply]);
}

export type Reply<T> = { ok: true; data: T } | ErrorReply;

/** What an operator command answers: the events it appended (none: nothing changed) and the aggregate's last sequence. */
export const CommandReply = Type.Object(
  {
    events: Type.Array(
      Type.Object(
        { type: Type.String(), data: Type.Record(Type.String(), Type.Unknown()) },
        { additionalProperties: false },
      ),
    ),
    lastSequence: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type CommandReply = Static<typeof CommandReply>;

/**
 * Whether an error code says the request reached no one who could decide it: nobody answering the
 * subject, no risk-guard leader during a failover, a gate or heimdall replica whose state is not
 * proven current, a caller's own connection closed or draining (nothing sent). Asking again cannot
 * decide anything twice. A timeout is not among them: it may have been decided.
 */
export function nothingDecided(code: string): boolean {
  return (
    code === 'RPC.NO_RESPONDERS' ||
    code === 'INFRA.STATE_STALE' ||
    code === 'INFRA.CONNECTION_CLOSED' ||
    code.endsWith('.NOT_LEADER') ||
    code.endsWith('.NO_LEADER')
  );
}

/**
 * Whether an error code says the infrastructure failed rather than the request: nothing decided
 * ({@link nothingDecided}), no answer in time (`RPC.TIMEOUT`: maybe decided, so only for requests
 * that are safe to repeat), a dependency unavailable (`INFRA.*`) or a concurrent append that won
 * (`CONCURRENCY.CONFLICT`). The same request may succeed later.
 */
export function infraFailureCode(code: string): boolean {
  return (
    nothingDecided(code) ||
    code === 'RPC.TIMEOUT' ||
    code.startsWith('INFRA.') ||
    code === 'CONCURRENCY.CONFLICT'
  );
}
