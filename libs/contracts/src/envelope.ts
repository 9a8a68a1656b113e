import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { compile } from './ajv';
import { isRealInstant } from './instant';

export const ActorKind = Type.Union([
  Type.Literal('engine'),
  Type.Literal('operator'),
  Type.Literal('system'),
]);

export const Actor = Type.Object(
  {
    kind: ActorKind,
    id: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type Actor = Static<typeof Actor>;

/**
 * RFC 3339 UTC with milliseconds, e.g. 2026-11-21T20:42:55.123Z. The pattern documents the
 * spelling; the `instant` format (checked by Ajv, see ajv.ts) also refuses days a month does not
 * have and year 0000, which the pattern lets through ({@link isRealInstant}).
 */
export const Timestamp = Type.String({
  pattern: '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d\\.\\d{3}Z$',
  format: 'instant',
  description: 'RFC 3339 UTC timestamp with milliseconds, of a day that exists',
  examples: ['2026-11-21T20:42:55.123Z'],
});

export { isRealInstant };

export const Uuid = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  description: 'UUID in lowercase hex (v7 preferred)',
});

/** A message's type: `<context>.<PastTenseName>`, e.g. `gate.KillSwitchEngaged`. */
export const MessageType = Type.String({
  pattern: '^[a-z]+\\.[A-Z][A-Za-z0-9]*$',
  maxLength: 100,
  description: '<context>.<PastTenseName>',
  examples: ['gate.KillSwitchEngaged'],
});

/** The envelope every message on Bifrost's streams carries (DESIGN §4). */
export const Envelope = Type.Object(
  {
    id: Uuid,
    type: MessageType,
    version: Type.Integer({ minimum: 1 }),
    occurredAt: Timestamp,
    source: Type.String({ minLength: 1, maxLength: 100 }),
    subject: Type.String({ minLength: 1, maxLength: 512 }),
    correlationId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    causationId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    actor: Actor,
    data: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false, $id: 'Envelope' },
);
export type Envelope<D = Record<string, unknown>> = Omit<Static<typeof Envelope>, 'data'> & { data: D };

export const validateEnvelope = compile(Envelope);

/** The schema of an envelope whose `data` is a given schema (for documentation). */
export function envelopeOf<D extends TSchema>(data: D) {
  return Type.Composite([Type.Omit(Envelope, ['data']), Type.Object({ data })], {
    additionalProperties: false,
  });
}
