import { Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import { EntityId, ProbeName, object } from '@bifrost/contracts';
import { ApiController, Route, ValidQuery } from '../http/route';
import { Limit, Rows } from '../http/schemas';
import { ReadModels } from './read-models.service';

const HistoryQuery = object({ probeName: Type.Optional(ProbeName), limit: Limit });
const AlertsQuery = object({
  probeName: Type.Optional(ProbeName),
  engineId: Type.Optional(EntityId),
  /** true: only alerts not resolved yet. */
  open: Type.Optional(Type.Boolean()),
  limit: Limit,
});
const RequestsQuery = object({ engineId: Type.Optional(EntityId), limit: Limit });

/** Canary history from the projector's read models: status changes, alerts, requests to the gate. */
@ApiController('canary', 'canary')
export class CanaryReadController {
  constructor(@Inject(ReadModels) private readonly read: ReadModels) {}

  @Route({
    method: 'GET',
    path: 'history',
    summary: 'Probe status changes (check results that changed a status), newest first (read model)',
    access: 'viewer',
    query: HistoryQuery,
    response: object({ items: Rows }),
  })
  async history(@ValidQuery() q: Static<typeof HistoryQuery>) {
    const params: unknown[] = [];
    let filter = '';
    if (q.probeName !== undefined) {
      params.push(q.probeName);
      filter = 'WHERE probe_name = $1';
    }
    params.push(q.limit);
    return {
      items: await this.read.rows(
        `SELECT * FROM canary_probe_history ${filter} ORDER BY at DESC, event_id DESC LIMIT $${params.length}`,
        params,
      ),
    };
  }

  @Route({
    method: 'GET',
    path: 'alerts',
    summary: 'Alerts of probes and engines, newest first, with resolution and acknowledgement (read model)',
    access: 'viewer',
    query: AlertsQuery,
    response: object({ items: Rows }),
  })
  async alerts(@ValidQuery() q: Static<typeof AlertsQuery>) {
    const params: unknown[] = [];
    const clauses: string[] = [];
    for (const [column, value] of [
      ['probe_name', q.probeName],
      ['engine_id', q.engineId],
    ] as const) {
      if (value === undefined) continue;
      params.push(value);
      clauses.push(`${column} = $${params.length}`);
    }
    if (q.open === true) clauses.push('resolved_at IS NULL');
    params.push(q.limit);
    const filter = clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`;
    return {
      items: await this.read.rows(
        `SELECT * FROM canary_alerts ${filter} ORDER BY raised_at DESC, alert_id DESC LIMIT $${params.length}`,
        params,
      ),
    };
  }

  @Route({
    method: 'GET',
    path: 'requests',
    summary: 'Kill-switch and engine-pause requests the canary made of the gate, newest first (read model)',
    access: 'viewer',
    query: RequestsQuery,
    response: object({ items: Rows }),
  })
  async requests(@ValidQuery() q: Static<typeof RequestsQuery>) {
    const params: unknown[] = [];
    let filter = '';
    if (q.engineId !== undefined) {
      params.push(q.engineId);
      filter = 'WHERE engine_id = $1';
    }
    params.push(q.limit);
    return {
      items: await this.read.rows(
        `SELECT * FROM canary_requests ${filter} ORDER BY requested_at DESC, event_id DESC LIMIT $${params.length}`,
        params,
      ),
    };
  }
}
