import { Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import {
  Actor,
  EntityId,
  KillSwitchModeSchema,
  PROBE_ACTIONS,
  PROBE_STATUSES,
  ProbeName,
  Timestamp,
  literals,
  object,
} from '@bifrost/contracts';
import { ApiController, Route, ValidQuery } from '../http/route';
import { Cursor, Limit, nullable, pageOf } from '../http/schemas';
import { ReadModels } from './read-models.service';

const HistoryQuery = object({ probeName: Type.Optional(ProbeName), limit: Limit, cursor: Cursor });
const AlertsQuery = object({
  probeName: Type.Optional(ProbeName),
  engineId: Type.Optional(EntityId),
  /** true: only alerts not resolved yet; false: only resolved ones; absent: all. */
  open: Type.Optional(Type.Boolean()),
  limit: Limit,
  cursor: Cursor,
});
const RequestsQuery = object({ engineId: Type.Optional(EntityId), limit: Limit, cursor: Cursor });

/** `detail`: what the check that changed the status found (`ok`, or what failed). */
const HistoryRow = object({
  eventId: Type.String(),
  probeName: ProbeName,
  fromStatus: literals(PROBE_STATUSES),
  toStatus: literals(PROBE_STATUSES),
  consecutiveFailures: Type.Integer(),
  consecutivePasses: Type.Integer(),
  detail: Type.String(),
  latencyMs: Type.Integer(),
  at: Timestamp,
});
/** A probe's alert (its engine too when the probe acts on one) or an engine's (dead-man switch). */
const AlertRow = object({
  alertId: Type.String(),
  probeName: nullable(ProbeName),
  engineId: nullable(EntityId),
  action: literals(PROBE_ACTIONS),
  reason: Type.String(),
  raisedAt: Timestamp,
  resolvedAt: nullable(Timestamp),
  acknowledgedBy: nullable(Actor),
  acknowledgedReason: nullable(Type.String()),
  acknowledgedAt: nullable(Timestamp),
});
/** `mode` and `consecutiveFailures` are a kill-switch request's; an engine pause has neither. */
const RequestRow = object({
  eventId: Type.String(),
  kind: literals(['kill-switch', 'engine-pause']),
  probeName: nullable(Type.String()),
  engineId: nullable(EntityId),
  mode: nullable(KillSwitchModeSchema),
  reason: Type.String(),
  consecutiveFailures: nullable(Type.Integer()),
  requestedAt: Timestamp,
});

/** Canary history from the projector's read models: status changes, alerts, requests to the gate. */
@ApiController('canary', 'canary')
export class CanaryReadController {
  constructor(@Inject(ReadModels) private readonly read: ReadModels) {}

  @Route({
    method: 'GET',
    path: 'history',
    summary:
      'Probe status changes (check results that changed a status), newest first (read model), with cursor pagination (pass nextCursor as cursor)',
    access: 'viewer',
    query: HistoryQuery,
    response: pageOf(HistoryRow),
  })
  history(@ValidQuery() q: Static<typeof HistoryQuery>) {
    return this.read.page({
      table: 'canary_probe_history',
      columns: '*',
      filters: [['probe_name = ?', q.probeName]],
      key: ['at', 'event_id'],
      keyType: 'timestamptz',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }

  @Route({
    method: 'GET',
    path: 'alerts',
    summary:
      'Alerts of probes and engines, newest first, with resolution and acknowledgement (read model), with cursor pagination (pass nextCursor as cursor)',
    access: 'viewer',
    query: AlertsQuery,
    response: pageOf(AlertRow),
  })
  alerts(@ValidQuery() q: Static<typeof AlertsQuery>) {
    return this.read.page({
      table: 'canary_alerts',
      columns: '*',
      filters: [
        ['probe_name = ?', q.probeName],
        ['engine_id = ?', q.engineId],
        ['resolved_at IS NULL', q.open === true ? true : undefined],
        ['resolved_at IS NOT NULL', q.open === false ? true : undefined],
      ],
      key: ['raised_at', 'alert_id'],
      keyType: 'timestamptz',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }

  @Route({
    method: 'GET',
    path: 'requests',
    summary:
      'Kill-switch and engine-pause requests the canary made of the gate, newest first (read model), with cursor pagination (pass nextCursor as cursor)',
    access: 'viewer',
    query: RequestsQuery,
    response: pageOf(RequestRow),
  })
  requests(@ValidQuery() q: Static<typeof RequestsQuery>) {
    return this.read.page({
      table: 'canary_requests',
      columns: '*',
      filters: [['engine_id = ?', q.engineId]],
      key: ['requested_at', 'event_id'],
      keyType: 'timestamptz',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }
}
