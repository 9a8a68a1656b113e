import { Type, type TLiteral, type TProperties, type TUnion } from '@sinclair/typebox';

/** A closed object: an unknown property is a mistake worth reporting, in a message or a request. */
export const object = <P extends TProperties>(properties: P) =>
  Type.Object(properties, { additionalProperties: false });

/** One of a fixed set of strings, typed as their union. */
export const literals = <T extends string>(values: readonly T[]): TUnion<TLiteral<T>[]> =>
  Type.Union(values.map((value) => Type.Literal(value)));
