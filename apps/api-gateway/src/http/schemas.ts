import { Type, type TSchema } from '@sinclair/typebox';
import { EntityId, object } from '@bifrost/contracts';

/** Page size of the list routes. */
export const Limit = Type.Integer({ minimum: 1, maximum: 500, default: 50 });
/** The `nextCursor` of the page before (keyset pagination: stable while rows are added). */
export const Cursor = Type.Optional(Type.String({ maxLength: 500 }));
/** The query of a list route without filters. */
export const ListQuery = object({ limit: Limit, cursor: Cursor });
/** A column that may be null. */
export const nullable = <S extends TSchema>(schema: S) => Type.Union([schema, Type.Null()]);
/** One page of a list route: pass `nextCursor` back as `cursor` for the next; null on the last. */
export const pageOf = <S extends TSchema>(row: S) =>
  object({ items: Type.Array(row), nextCursor: nullable(Type.String()) });
/** A calendar day that exists (`2026-02-30` is refused, not compared with stored days as text). */
export const Day = Type.String({ format: 'date', examples: ['2026-11-21'] });

export const EngineParams = object({ engineId: EntityId });
export const StrategyParams = object({ engineId: EntityId, strategyId: EntityId });

export const exampleReply = (type: string, data: Record<string, unknown>) => ({
  events: [{ type, data: { actor: { kind: 'operator', id: '3f9a1c2b7d4e5f60' }, ...data } }],
  lastSequence: 42,
});
