import { Type, type TLiteral, type TProperties, type TSchema, type TUnion } from '@sinclair/typebox';

/** A closed object: an unknown property is a mistake worth reporting, in a message or a request. */
export const object = <P extends TProperties>(properties: P) =>
  Type.Object(properties, { additionalProperties: false });

/**
 * A copy of `schema` that takes properties it does not name, at every depth: what a reader needs of a
 * writer that may be newer (a field added to a reply later is ignored, not refused). Same type.
 */
export function tolerant<S extends TSchema>(schema: S): S {
  return JSON.parse(JSON.stringify(schema), (key: string, value: unknown) =>
    key === 'additionalProperties' && value === false ? undefined : value,
  ) as S;
}

/** One of a fixed set of strings, typed as their union. */
export const literals = <T extends string>(values: readonly T[]): TUnion<TLiteral<T>[]> =>
  Type.Union(values.map((value) => Type.Literal(value)));

/** The most code points a reason may hold: what a service composing one must clip it to. */
export const REASON_MAX_LENGTH = 500;

/** Why a person or a service did something, as it is kept in events (never stricter than what was stored). */
export const Reason = Type.String({ minLength: 1, maxLength: REASON_MAX_LENGTH });

/** The reason a command must give: some text, not only spaces (an audit trail of "   " explains nothing). */
export const CommandReason = Type.String({ minLength: 1, maxLength: REASON_MAX_LENGTH, pattern: '\\S' });
