import { Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import { EntityId, TripwirePolicyId, object } from '@bifrost/contracts';
import { ApiController, Route, ValidQuery } from '../http/route';
import { Rows } from '../http/schemas';
import { ReadModels } from './read-models.service';

const TriggersQuery = object({
  engineId: Type.Optional(EntityId),
  policyId: Type.Optional(TripwirePolicyId),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
});

/** Tripwire history from the projector's read models: every trip with its evidence. */
@ApiController('tripwire', 'tripwire')
export class TripwireReadController {
  constructor(@Inject(ReadModels) private readonly read: ReadModels) {}

  @Route({
    method: 'GET',
    path: 'triggers',
    summary: 'Tripwire trips, newest first, with their evidence (read model), by engine and policy',
    access: 'viewer',
    query: TriggersQuery,
    response: object({ items: Rows }),
  })
  async triggers(@ValidQuery() q: Static<typeof TriggersQuery>) {
    const params: unknown[] = [];
    const clauses: string[] = [];
    for (const [column, value] of [
      ['engine_id', q.engineId],
      ['policy_id', q.policyId],
    ] as const) {
      if (value === undefined) continue;
      params.push(value);
      clauses.push(`${column} = $${params.length}`);
    }
    params.push(q.limit);
    const filter = clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`;
    return {
      items: await this.read.rows(
        `SELECT * FROM tripwire_triggers ${filter} ORDER BY triggered_at DESC, event_id DESC LIMIT $${params.length}`,
        params,
      ),
    };
  }
}
