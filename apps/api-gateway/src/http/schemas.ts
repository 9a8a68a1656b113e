import { Type } from '@sinclair/typebox';
import { EntityId, object } from '@bifrost/contracts';

export const Reason = Type.String({ minLength: 1, maxLength: 500, examples: ['maintenance window'] });

export const EngineParams = object({ engineId: EntityId });
export const StrategyParams = object({ engineId: EntityId, strategyId: EntityId });

/** What a command returns: the events it caused (empty: nothing changed) and the aggregate's last sequence. */
export const CommandReply = object({
  events: Type.Array(Type.Object({ type: Type.String(), data: Type.Record(Type.String(), Type.Unknown()) })),
  lastSequence: Type.Integer({ minimum: 0 }),
});

export const exampleReply = (type: string, data: Record<string, unknown>) => ({
  events: [{ type, data: { actor: { kind: 'operator', id: '3f9a1c2b7d4e5f60' }, ...data } }],
  lastSequence: 42,
});
