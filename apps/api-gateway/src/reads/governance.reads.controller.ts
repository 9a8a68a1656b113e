import { Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import {
  Actor,
  ApproverRole,
  BREAKER_ACTIONS,
  BreakerEventSchema,
  BreakerWindow,
  CycleReportSchema,
  EntityId,
  GovernanceId,
  INCIDENT_SEVERITIES,
  Phase,
  ProposalSchema,
  ProposalView,
  READINESS_STATUSES,
  ReadinessReportSchema,
  Reason,
  Timestamp,
  WindowMetricsSchema,
  literals,
  object,
} from '@bifrost/contracts';
import { ProblemError } from '../http/problem';
import { ApiController, Route, ValidParams, ValidQuery } from '../http/route';
import { Cursor, EngineParams, Limit, ListQuery, nullable, pageOf } from '../http/schemas';
import { ReadModels, type Row } from './read-models.service';

const RangeQuery = object({ start: Type.Optional(Timestamp), end: Type.Optional(Timestamp) });
const ProposalsQuery = object({
  status: Type.Union(
    ['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'ALL'].map((s) => Type.Literal(s)),
    { default: 'PENDING' },
  ),
  limit: Limit,
  cursor: Cursor,
});
const ReportParams = object({ engineId: EntityId, reportId: GovernanceId });

const RangeMetrics = object({
  start: Timestamp,
  end: Timestamp,
  metrics: WindowMetricsSchema,
});

const BreakerRuleRow = object({
  engineId: EntityId,
  ruleId: Type.String(),
  name: Type.String(),
  condition: Type.String(),
  window: BreakerWindow,
  action: literals(BREAKER_ACTIONS),
  commandType: nullable(Type.String()),
  enabled: Type.Boolean(),
  /** Null for the rules the engine was enrolled with. */
  updatedBy: nullable(Actor),
  updateReason: nullable(Type.String()),
  updatedAt: Timestamp,
});
const BreakerEventRow = object({
  engineId: EntityId,
  eventId: Type.String(),
  ruleId: Type.String(),
  ruleName: Type.String(),
  condition: Type.String(),
  window: BreakerWindow,
  action: literals(BREAKER_ACTIONS),
  commandType: nullable(Type.String()),
  observed: BreakerEventSchema.properties.observed,
  explanation: Type.String(),
  trippedAt: Timestamp,
  resolvedAt: nullable(Timestamp),
  resolvedBy: nullable(Actor),
  resolutionNote: nullable(Type.String()),
});
/** A report's summary: the whole report is `GET …/reports/{reportId}`. */
const ReportRow = object({
  engineId: EntityId,
  reportId: Type.String(),
  trigger: CycleReportSchema.properties.trigger,
  ranAt: Timestamp,
  phase: Phase,
  readinessScore: Type.Integer(),
  readinessStatus: literals(READINESS_STATUSES),
  proposed: Type.Boolean(),
  proposalId: nullable(Type.String()),
});
/** `proposal` as the cycle made it; `approvals`, `outstanding` and the closing columns as it stands. */
const ProposalRow = object({
  engineId: EntityId,
  proposalId: Type.String(),
  fromPhase: Phase,
  targetPhase: Phase,
  status: ProposalView.properties.status,
  proposal: ProposalSchema,
  approvals: Type.Array(
    object({ principalId: Type.String(), role: ApproverRole, at: Timestamp, note: Type.Optional(Reason) }),
  ),
  outstanding: Type.Array(ApproverRole),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  closedAt: nullable(Timestamp),
  /** Who rejected it, or the agent that withdrew it; null once approved or expired. */
  closedBy: nullable(Actor),
  closeReason: nullable(Type.String()),
});

const DAY_MS = 24 * 60 * 60 * 1000;
const YEAR_ONE_MS = Date.parse('0001-01-01T00:00:00.000Z');

/** Command and incident counts of an engine in [start, end), from the projector's records. */
const RANGE_SQL = `
  SELECT c.*, i.* FROM
    (SELECT count(*) AS commands,
       count(*) FILTER (WHERE outcome = 'success') AS successes,
       count(*) FILTER (WHERE outcome = 'error') AS errors,
       count(*) FILTER (WHERE outcome = 'rolled_back') AS rollbacks,
       count(*) FILTER (WHERE required_approval) AS approvals_required,
       count(*) FILTER (WHERE required_approval AND approved) AS approvals_granted
     FROM governance_commands WHERE engine_id = $1 AND recorded_at >= $2 AND recorded_at < $3) c
  CROSS JOIN
    (SELECT count(*) AS incidents,
       count(*) FILTER (WHERE severity = 'critical') AS critical_incidents,
       coalesce(array_agg(DISTINCT severity) FILTER (WHERE severity IS NOT NULL), '{}') AS severities
     FROM governance_incidents WHERE engine_id = $1 AND recorded_at >= $2 AND recorded_at < $3) i`;

/** The same shape and rate rules as the agent's window metrics (rates 0 on an empty denominator). */
function metricsOf(window: string, row: Row) {
  const n = (key: string) => Number(row[key] ?? 0);
  const ratio = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);
  const severities = (row['severities'] as string[] | null) ?? [];
  const present = INCIDENT_SEVERITIES.filter((s) => severities.includes(s));
  return {
    window,
    commands: n('commands'),
    successes: n('successes'),
    errors: n('errors'),
    rollbacks: n('rollbacks'),
    failures: n('errors') + n('rollbacks'),
    successRate: ratio(n('successes'), n('commands')),
    errorRate: ratio(n('errors'), n('commands')),
    rollbackRate: ratio(n('rollbacks'), n('commands')),
    approvalsRequired: n('approvalsRequired'),
    approvalsGranted: n('approvalsGranted'),
    approvalRate: ratio(n('approvalsGranted'), n('approvalsRequired')),
    incidents: n('incidents'),
    criticalIncidents: n('criticalIncidents'),
    maxSeverity: present[present.length - 1] ?? null,
  };
}

/**
 * Governance history from the projector's read models: metrics over any time range, cycle reports
 * (with their metrics and readiness snapshots), breaker rules and events, proposals.
 */
@ApiController('governance', 'governance')
export class GovernanceReadController {
  constructor(@Inject(ReadModels) private readonly read: ReadModels) {}

  @Route({
    method: 'GET',
    path: 'engines/:engineId/metrics/current',
    summary:
      'Command and incident metrics of an engine over [start, end) (default: the last 24 hours), from the read models',
    access: 'viewer',
    params: EngineParams,
    query: RangeQuery,
    response: RangeMetrics,
  })
  async current(
    @ValidParams() params: Static<typeof EngineParams>,
    @ValidQuery() q: Static<typeof RangeQuery>,
  ) {
    const end = q.end ?? new Date().toISOString();
    // Not before year 1, which Postgres's timestamps start at: the range of an early end is shorter.
    const start = q.start ?? new Date(Math.max(Date.parse(end) - DAY_MS, YEAR_ONE_MS)).toISOString();
    // As the lists' from and to: after is a mistake, equal an empty range (nothing counted).
    if (Date.parse(start) > Date.parse(end)) {
      throw new ProblemError('invalid', `start ${start} is after end ${end}`, 'REQUEST.INVALID');
    }
    await this.assertEnrolled(params.engineId);
    return { start, end, metrics: await this.range(params.engineId, start, end) };
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/metrics/weekly',
    summary: 'The last 7 UTC days (today so far included): the week and each day',
    access: 'viewer',
    params: EngineParams,
    response: object({
      start: Timestamp,
      end: Timestamp,
      metrics: WindowMetricsSchema,
      days: Type.Array(RangeMetrics),
    }),
  })
  async weekly(@ValidParams() params: Static<typeof EngineParams>) {
    await this.assertEnrolled(params.engineId);
    const endMs = Date.now();
    const end = new Date(endMs).toISOString();
    const firstDay = Math.floor((endMs - 6 * DAY_MS) / DAY_MS) * DAY_MS;
    const start = new Date(firstDay).toISOString();
    const ranges = Array.from({ length: 7 }, (_, d) => ({
      start: new Date(firstDay + d * DAY_MS).toISOString(),
      end: new Date(Math.min(firstDay + (d + 1) * DAY_MS, endMs)).toISOString(),
    }));
    // One snapshot: the week's totals are the sum of its days even while the projector commits.
    const [week, ...days] = await this.read.snapshot(
      [{ start, end }, ...ranges].map((range) => ({
        sql: RANGE_SQL,
        params: [params.engineId, range.start, range.end],
      })),
    );
    return {
      start,
      end,
      metrics: metricsOf(`${start}/${end}`, week?.[0] ?? {}),
      days: ranges.map((range, d) => ({
        ...range,
        metrics: metricsOf(`${range.start}/${range.end}`, days[d]?.[0] ?? {}),
      })),
    };
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/metrics/latest',
    summary: 'The metrics snapshot of the latest governance cycle (its last 7 days)',
    access: 'viewer',
    params: EngineParams,
    response: object({ reportId: Type.String(), ranAt: Timestamp, metrics: WindowMetricsSchema }),
  })
  async latestMetrics(@ValidParams() params: Static<typeof EngineParams>) {
    return this.latestReportPart(params.engineId, 'metrics');
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/readiness/latest',
    summary: 'The readiness assessment of the latest governance cycle',
    access: 'viewer',
    params: EngineParams,
    response: object({ reportId: Type.String(), ranAt: Timestamp, readiness: ReadinessReportSchema }),
  })
  async latestReadiness(@ValidParams() params: Static<typeof EngineParams>) {
    return this.latestReportPart(params.engineId, 'readiness');
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/circuit-breaker/events',
    summary:
      'Breaker events of an engine, newest first (resolved or not), with cursor pagination (pass nextCursor as cursor)',
    access: 'viewer',
    params: EngineParams,
    query: ListQuery,
    response: pageOf(BreakerEventRow),
  })
  breakerEvents(
    @ValidParams() params: Static<typeof EngineParams>,
    @ValidQuery() q: Static<typeof ListQuery>,
  ) {
    return this.events(params.engineId, false, q);
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/circuit-breaker/events/unresolved',
    summary:
      'Open breaker events of an engine (they block expansion proposals until resolved), newest first, with cursor pagination (pass nextCursor as cursor)',
    access: 'viewer',
    params: EngineParams,
    query: ListQuery,
    response: pageOf(BreakerEventRow),
  })
  unresolved(@ValidParams() params: Static<typeof EngineParams>, @ValidQuery() q: Static<typeof ListQuery>) {
    return this.events(params.engineId, true, q);
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/circuit-breaker/rules',
    summary: "An engine's circuit breaker rules",
    access: 'viewer',
    params: EngineParams,
    response: object({ items: Type.Array(BreakerRuleRow) }),
  })
  async rules(@ValidParams() params: Static<typeof EngineParams>) {
    return { items: await this.rulesOf(params.engineId, false) };
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/circuit-breaker/rules/enabled',
    summary: "An engine's enabled circuit breaker rules",
    access: 'viewer',
    params: EngineParams,
    response: object({ items: Type.Array(BreakerRuleRow) }),
  })
  async enabledRules(@ValidParams() params: Static<typeof EngineParams>) {
    return { items: await this.rulesOf(params.engineId, true) };
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/reports',
    summary:
      'Governance cycle reports of an engine, newest first (summary; the full report by id), with cursor pagination (pass nextCursor as cursor)',
    access: 'viewer',
    params: EngineParams,
    query: ListQuery,
    response: pageOf(ReportRow),
  })
  reports(@ValidParams() params: Static<typeof EngineParams>, @ValidQuery() q: Static<typeof ListQuery>) {
    return this.read.page({
      table: 'governance_reports',
      columns:
        'engine_id, report_id, cycle_trigger AS trigger, ran_at, phase, readiness_score, readiness_status, proposed, proposal_id',
      filters: [['engine_id = ?', params.engineId]],
      key: ['ran_at', 'report_id'],
      keyType: 'timestamptz',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/reports/latest',
    summary: 'The latest governance cycle report of an engine',
    access: 'viewer',
    params: EngineParams,
    response: CycleReportSchema,
  })
  async latest(@ValidParams() params: Static<typeof EngineParams>) {
    return (await this.latestReport(params.engineId))['report'];
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/reports/:reportId',
    summary: 'One governance cycle report: metrics, readiness, breakers, decision',
    access: 'viewer',
    params: ReportParams,
    response: CycleReportSchema,
  })
  async report(@ValidParams() params: Static<typeof ReportParams>) {
    const row = await this.read.one(
      `SELECT report FROM governance_reports WHERE engine_id = $1 AND report_id = $2`,
      [params.engineId, params.reportId],
      `report ${params.reportId} for engine ${params.engineId}`,
    );
    return row['report'];
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/proposals',
    summary:
      'Expansion proposals of an engine, newest first (pending by default), with cursor pagination (pass nextCursor as cursor)',
    access: 'viewer',
    params: EngineParams,
    query: ProposalsQuery,
    response: pageOf(ProposalRow),
  })
  proposals(
    @ValidParams() params: Static<typeof EngineParams>,
    @ValidQuery() q: Static<typeof ProposalsQuery>,
  ) {
    return this.read.page({
      table: 'governance_proposals',
      columns: '*',
      filters: [
        ['engine_id = ?', params.engineId],
        ['status = ?', q.status === 'ALL' ? undefined : q.status],
      ],
      key: ['created_at', 'proposal_id'],
      keyType: 'timestamptz',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }

  /**
   * Counts over an engine the agent does not govern would be zeros that look like a quiet engine:
   * 404, as the live routes answer (enrolment as the read model has it).
   */
  private async assertEnrolled(engineId: string): Promise<void> {
    const rows = await this.read.rows('SELECT 1 FROM governance_engines WHERE engine_id = $1', [engineId]);
    if (rows.length === 0) {
      throw new ProblemError(
        'notFound',
        `engine ${engineId} is not under governance`,
        'GOVERNANCE.ENGINE_NOT_ENROLLED',
      );
    }
  }

  private async range(engineId: string, start: string, end: string) {
    const [row] = await this.read.rows(RANGE_SQL, [engineId, start, end]);
    return metricsOf(`${start}/${end}`, row ?? {});
  }

  /** One part of the latest cycle report, with the report's id and time. */
  private async latestReportPart(engineId: string, part: 'metrics' | 'readiness') {
    const row = await this.latestReport(engineId);
    const report = row['report'] as Record<string, unknown>;
    return { reportId: row['reportId'], ranAt: row['ranAt'], [part]: report[part] };
  }

  private latestReport(engineId: string): Promise<Row> {
    return this.read.one(
      `SELECT report_id, ran_at, report FROM governance_reports WHERE engine_id = $1
       ORDER BY ran_at DESC, report_id DESC LIMIT 1`,
      [engineId],
      `governance report for engine ${engineId}`,
    );
  }

  private events(engineId: string, unresolvedOnly: boolean, q: Static<typeof ListQuery>) {
    return this.read.page({
      table: 'governance_breaker_events',
      columns: `engine_id, event_id, rule_id, rule_name, condition, rule_window AS "window", action, command_type,
       observed, explanation, tripped_at, resolved_at, resolved_by, resolution_note`,
      filters: [
        ['engine_id = ?', engineId],
        ['resolved_at IS NULL', unresolvedOnly ? true : undefined],
      ],
      key: ['tripped_at', 'event_id'],
      keyType: 'timestamptz',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }

  private rulesOf(engineId: string, enabledOnly: boolean): Promise<Row[]> {
    return this.read.rows(
      `SELECT engine_id, rule_id, name, condition, rule_window AS "window", action, command_type, enabled,
         updated_by, update_reason, updated_at
       FROM governance_breaker_rules WHERE engine_id = $1 ${enabledOnly ? 'AND enabled' : ''} ORDER BY rule_id`,
      [engineId],
    );
  }
}
