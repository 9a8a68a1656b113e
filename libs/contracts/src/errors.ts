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
