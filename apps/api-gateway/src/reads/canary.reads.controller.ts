import { Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import {
  Actor,
  CanarySummaryReported,
  ENGINE_HEALTHS,
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
import { assertRangeOrder, isoTime, ReadModels } from './read-models.service';

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
const EnginesQuery = object({
  status: Type.Optional(literals(ENGINE_HEALTHS)),
  /** true: only engines whose silence is judged; false: only those an operator stopped watching; absent: all. */
  enabled: Type.Optional(Type.Boolean()),
  limit: Limit,
  cursor: Cursor,
});
const SummariesQuery = object({
  /** Summaries whose period ended at or after this time (inclusive). */
  from: Type.Optional(Timestamp),
  /** Summaries whose period ended before this time (exclusive, as every range's `to`). */
  to: Type.Optional(Timestamp),
  limit: Limit,
  cursor: Cursor,
});
/** The summaries' JSON columns, selected as text and passed through as the projector stored them. */
const SUMMARY_COLUMNS = `event_id, ${isoTime('from_at')}, ${isoTime('to_at')}, probes::text AS probes, engines::text AS engines`;

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

/**
 * An engine under the dead-man switch, as the canary's events left it (heartbeat policy and status).
 * `allowedGapMs`: the gap its heartbeat policy sets; null when it sets none: the canary's default gap
 * applies (`CANARY_HEARTBEAT_GAP_MS`, or three times the interval the engine declares when that is
 * longer), and the gap in force is in the live `GET /canary/status`. `enabled` false: its silence is
 * not judged.
 * `lastHeartbeatAt`: the last heartbeat an event names (the first one, the last before a silence, the
 * one that ended it, a sign-off or sign-on), not the newest (heartbeats are not events); null when a
 * policy was set before the engine sent any. `resumeRequestedAt`: the canary's last auto-resume request.
 */
const EngineRow = object({
  engineId: EntityId,
  status: literals(ENGINE_HEALTHS),
  allowedGapMs: nullable(Type.Integer()),
  autoResume: Type.Boolean(),
  enabled: Type.Boolean(),
  staleSince: nullable(Timestamp),
  lastHeartbeatAt: nullable(Timestamp),
  resumeRequestedAt: nullable(Timestamp),
  updatedAt: Timestamp,
});
/**
 * A periodic summary (`canary.SummaryReported`, `eventId` its event): checks and failures per probe
 * from `fromAt` to `toAt`, and every watched engine's status at `toAt`.
 */
const SummaryRow = object({
  eventId: Type.String(),
  fromAt: Timestamp,
  toAt: Timestamp,
  probes: CanarySummaryReported.data.properties.probes,
  engines: CanarySummaryReported.data.properties.engines,
});

/**
 * Canary history from the projector's read models: status changes, alerts, requests to the gate,
 * watched engines and periodic summaries; there when the canary service is not.
 */
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

  @Route({
    method: 'GET',
    path: 'engines',
    summary:
      'Engines under the dead-man switch with their heartbeat policy and status (ALIVE/STALE/OFFLINE), by engine id (read model), with cursor pagination (pass nextCursor as cursor)',
    description:
      "`allowedGapMs` null: the engine's heartbeat policy sets no gap and the canary's default applies " +
      '(CANARY_HEARTBEAT_GAP_MS, or three times the interval the engine declares when that is longer; the gap in ' +
      'force is in GET /api/v1/canary/status, live). `lastHeartbeatAt` is the last heartbeat an event names ' +
      '(the first, the last before a silence, the one that ended it, a sign-off or sign-on), not the newest one.',
    access: 'viewer',
    query: EnginesQuery,
    response: pageOf(EngineRow),
  })
  engines(@ValidQuery() q: Static<typeof EnginesQuery>) {
    return this.read.page({
      table: 'canary_engines',
      columns: '*',
      filters: [
        ['status = ?', q.status],
        ['enabled = ?', q.enabled],
      ],
      // One row per engine: the engine id alone is unique, so it is its own tie-breaker.
      key: ['engine_id', 'engine_id'],
      keyType: 'text',
      order: 'asc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }

  @Route({
    method: 'GET',
    path: 'summaries',
    summary:
      "The canary's periodic summaries (checks and failures per probe, every engine's status), newest first, from/to on their end (read model), with cursor pagination (pass nextCursor as cursor)",
    access: 'viewer',
    query: SummariesQuery,
    response: pageOf(SummaryRow),
  })
  summaries(@ValidQuery() q: Static<typeof SummariesQuery>) {
    assertRangeOrder(q.from, q.to);
    return this.read.page({
      table: 'canary_summaries',
      columns: SUMMARY_COLUMNS,
      filters: [
        ['to_at >= ?', q.from],
        ['to_at < ?', q.to],
      ],
      key: ['to_at', 'event_id'],
      keyType: 'timestamptz',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
      rawJson: ['probes', 'engines'],
    });
  }
}
