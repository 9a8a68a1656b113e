import { Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import {
  EntityId,
  Timestamp,
  TRIPWIRE_ACTIONS,
  TripwirePolicyId,
  TripwireTriggered,
  literals,
  object,
} from '@bifrost/contracts';
import { ApiController, Route, ValidQuery } from '../http/route';
import { Cursor, Limit, nullable, pageOf } from '../http/schemas';
import { ReadModels } from './read-models.service';

const TriggersQuery = object({
  engineId: Type.Optional(EntityId),
  policyId: Type.Optional(TripwirePolicyId),
  limit: Limit,
  cursor: Cursor,
});
/** `data`: the whole `tripwire.TripwireTriggered`, with the evidence (both windows, the drop). */
const TriggerRow = object({
  eventId: Type.String(),
  engineId: EntityId,
  action: literals(TRIPWIRE_ACTIONS),
  policyId: TripwirePolicyId,
  reason: nullable(Type.String()),
  data: TripwireTriggered.data,
  triggeredAt: Timestamp,
});

/** Tripwire history from the projector's read models: every trip with its evidence. */
@ApiController('tripwire', 'tripwire')
export class TripwireReadController {
  constructor(@Inject(ReadModels) private readonly read: ReadModels) {}

  @Route({
    method: 'GET',
    path: 'triggers',
    summary:
      'Tripwire trips, newest first, with their evidence (read model), by engine and policy, with cursor pagination (pass nextCursor as cursor)',
    access: 'viewer',
    query: TriggersQuery,
    response: pageOf(TriggerRow),
  })
  triggers(@ValidQuery() q: Static<typeof TriggersQuery>) {
    return this.read.page({
      table: 'tripwire_triggers',
      columns: '*',
      filters: [
        ['engine_id = ?', q.engineId],
        ['policy_id = ?', q.policyId],
      ],
      key: ['triggered_at', 'event_id'],
      keyType: 'timestamptz',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }
}
