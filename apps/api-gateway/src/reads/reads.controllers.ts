import { Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import {
  APPROVAL_STATUSES,
  EntityId,
  RESERVATION_STATUSES,
  ReservationId,
  RISK_LEVELS,
  Timestamp,
  VERDICT_ACTIONS,
  literals,
  object,
  type ApprovalStatus,
} from '@bifrost/contracts';
import { ApiController, Route, ValidParams, ValidQuery } from '../http/route';
import { Cursor, Day, EngineParams, Limit, Page, ListQuery, Rows, StrategyParams } from '../http/schemas';
import { assertRangeOrder, isoTime, ReadModels } from './read-models.service';

/**
 * What lapses by the clock, with no event to record it (the gate compares with `now`), read as of
 * now: a pause whose cooldown has passed is no longer paused, an active token past its expiry is
 * `expired` (as a pending approval past its expiry is, below).
 */
const PAUSED_NOW = '(paused AND (cooldown_until IS NULL OR cooldown_until > now())) AS paused';
const CONTROL_ENGINE_COLUMNS = `engine_id, mode, mode_set_at, ${PAUSED_NOW}, pause_reason, pause_cause, cooldown_until,
  paused_at, resumed_at, autonomy_phase, whitelist, phase_applied_at`;
const STRATEGY_COLUMNS = `engine_id, strategy_id, level, level_changed_at, demotion_pending, capital, registered_at,
  outcomes, wins, losses, pnl_total, last_outcome_id, last_outcome_pnl, last_outcome_at, baseline, ${PAUSED_NOW},
  pause_reason, pause_drift, cooldown_until, paused_by, paused_at, resumed_at`;
const TOKEN_COLUMNS = `token_id, engine_id, strategy_id,
  CASE WHEN status = 'active' AND expires_at <= now() THEN 'expired' ELSE status END AS status, scope, max_notional,
  expires_at, single_use, bound_action_hash, approval_id, issued_by, issued_at, revoked_by, revoked_at, revoke_reason,
  uses, last_used_at, refusals, last_refusal`;

@ApiController('control', 'control')
export class ControlReadController {
  constructor(@Inject(ReadModels) private readonly read: ReadModels) {}

  @Route({
    method: 'GET',
    path: '',
    summary: 'Control plane state: go-live, checklist, kill switches, execution classes, engines',
    access: 'viewer',
    response: object({
      goLive: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
      checklist: Rows,
      killSwitches: Rows,
      executionClasses: Rows,
      engines: Rows,
    }),
    example: {
      response: {
        goLive: { enabled: false },
        checklist: [],
        killSwitches: [{ scope: 'global', engaged: true, mode: 'hard', engagedBy: '3f9a1c2b7d4e5f60' }],
        executionClasses: [{ actionKind: 'order.place', executionClass: 'SANDBOX_EXEC' }],
        engines: [],
      },
    },
  })
  async state() {
    const [goLive, checklist, killSwitches, executionClasses, engines] = await Promise.all([
      this.read.rows(
        'SELECT enabled, reason, changed_by, changed_at, last_refused_at, last_refused_items FROM control_go_live',
      ),
      this.read.rows('SELECT * FROM control_checklist ORDER BY item'),
      this.read.rows('SELECT * FROM control_kill_switches ORDER BY scope'),
      this.read.rows('SELECT * FROM control_execution_classes ORDER BY action_kind'),
      this.read.rows(`SELECT ${CONTROL_ENGINE_COLUMNS} FROM control_engines ORDER BY engine_id`),
    ]);
    return { goLive: goLive[0] ?? { enabled: false }, checklist, killSwitches, executionClasses, engines };
  }
}

const StrategiesQuery = object({
  engineId: Type.Optional(EntityId),
  level: Type.Optional(Type.String({ pattern: '^L[0-4]$' })),
  limit: Limit,
  cursor: Cursor,
});

@ApiController('strategies', 'strategies')
export class StrategiesReadController {
  constructor(@Inject(ReadModels) private readonly read: ReadModels) {}

  @Route({
    method: 'GET',
    path: '',
    summary:
      'Strategies with maturity level, outcomes, health inputs and pauses, by engine and strategy id, with cursor pagination (pass nextCursor as cursor)',
    access: 'viewer',
    query: StrategiesQuery,
    response: Page,
  })
  list(@ValidQuery() q: Static<typeof StrategiesQuery>) {
    return this.read.page({
      table: 'strategies',
      columns: STRATEGY_COLUMNS,
      filters: [
        ['engine_id = ?', q.engineId],
        ['level = ?', q.level],
      ],
      key: ['engine_id', 'strategy_id'],
      keyType: 'text',
      order: 'asc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }

  @Route({
    method: 'GET',
    path: ':engineId/:strategyId',
    summary: 'One strategy with its execution tokens and maturity history',
    access: 'viewer',
    params: StrategyParams,
    response: object({
      strategy: Type.Record(Type.String(), Type.Unknown()),
      tokens: Rows,
      maturityChanges: Rows,
    }),
  })
  async one(@ValidParams() p: Static<typeof StrategyParams>) {
    const key = [p.engineId, p.strategyId];
    const strategy = await this.read.one(
      `SELECT ${STRATEGY_COLUMNS} FROM strategies WHERE engine_id = $1 AND strategy_id = $2`,
      key,
      `strategy ${key.join('/')}`,
    );
    const [tokens, maturityChanges] = await Promise.all([
      this.read.rows(
        `SELECT ${TOKEN_COLUMNS} FROM execution_tokens WHERE engine_id = $1 AND strategy_id = $2
         ORDER BY issued_at DESC LIMIT 200`,
        key,
      ),
      this.read.rows(
        'SELECT * FROM strategy_maturity_changes WHERE engine_id = $1 AND strategy_id = $2 ORDER BY changed_at DESC LIMIT 200',
        key,
      ),
    ]);
    return { strategy, tokens, maturityChanges };
  }
}

const ApprovalsQuery = object({
  status: Type.Optional(literals(APPROVAL_STATUSES)),
  engineId: Type.Optional(EntityId),
  strategyId: Type.Optional(EntityId),
  limit: Limit,
  cursor: Cursor,
});

/**
 * The read model keeps a request `pending` until it is decided (the projector has no clock); a
 * reader sees one past its `expires_at` as `expired`, as the gate does.
 */
const APPROVAL_EXPIRED = "status = 'pending' AND expires_at <= now()";
const APPROVAL_STATUS_FILTERS: Readonly<Record<ApprovalStatus, string>> = {
  pending: "status = 'pending' AND expires_at > now()",
  expired: APPROVAL_EXPIRED,
  granted: "status = 'granted'",
  rejected: "status = 'rejected'",
};
const APPROVAL_COLUMNS = [
  'approval_id',
  'engine_id',
  'strategy_id',
  `CASE WHEN ${APPROVAL_EXPIRED} THEN 'expired' ELSE status END AS status`,
  'action_hash',
  'action',
  'requested_by',
  'requested_at',
  'expires_at',
  'decided_by',
  'decided_at',
  'token_id',
  'token_expires_at',
  'reject_reason',
].join(', ');

@ApiController('approvals', 'approvals')
export class ApprovalsController {
  constructor(@Inject(ReadModels) private readonly read: ReadModels) {}

  @Route({
    method: 'GET',
    path: '',
    summary:
      'Approval requests (REQUIRE_APPROVAL verdicts), newest first, with cursor pagination (pass nextCursor as cursor); approve/reject under /strategies',
    access: 'viewer',
    query: ApprovalsQuery,
    response: Page,
  })
  list(@ValidQuery() q: Static<typeof ApprovalsQuery>) {
    return this.read.page({
      table: 'approvals',
      columns: APPROVAL_COLUMNS,
      filters: [
        [q.status === undefined ? '' : APPROVAL_STATUS_FILTERS[q.status], q.status],
        ['engine_id = ?', q.engineId],
        ['strategy_id = ?', q.strategyId],
      ],
      key: ['requested_at', 'approval_id'],
      keyType: 'timestamptz',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }
}

export const DecisionsQuery = object({
  from: Type.Optional(Timestamp),
  to: Type.Optional(Timestamp),
  engineId: Type.Optional(EntityId),
  strategyId: Type.Optional(EntityId),
  action: Type.Optional(literals(VERDICT_ACTIONS)),
  riskLevel: Type.Optional(literals(RISK_LEVELS)),
  limit: Limit,
  cursor: Cursor,
});
const DecisionParams = object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
/** A decision in a page: what was decided and the checks that shaped it (`reasons`). */
const DECISION_COLUMNS = `decision_id, ${isoTime('decided_at')}, engine_id, strategy_id, action, risk_level, mode, size_multiplier, action_kind, action_hash, policy_revision, approval_id, request_id, latency_micros, reasons::text AS reasons, stream_seq`;

@ApiController('decisions', 'decisions')
export class DecisionsController {
  constructor(@Inject(ReadModels) private readonly read: ReadModels) {}

  @Route({
    method: 'GET',
    path: '',
    summary:
      'Gate decisions, newest first, with filters and cursor pagination (pass nextCursor as cursor); each with the checks that shaped it (reasons), the whole verdict under /decisions/{id}',
    access: 'viewer',
    query: DecisionsQuery,
    response: Page,
    example: {
      response: {
        items: [
          {
            decisionId: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b',
            engineId: 'wholesale-bot',
            action: 'KILL',
            riskLevel: 'HIGH',
            reasons: [
              {
                name: 'killSwitch',
                outcome: 'KILL',
                value: 'hard',
                threshold: 'none',
                distanceToTrip: null,
                reason: 'hard engine wholesale-bot kill switch engaged: operator drill',
              },
            ],
          },
        ],
        nextCursor: 'WyIyMDI2LTExLTIxVDIwOjQyOjU1LjEyM1oiLCIwMTkzIl0',
      },
    },
  })
  list(@ValidQuery() q: Static<typeof DecisionsQuery>) {
    assertRangeOrder(q.from, q.to);
    return this.read.page({
      table: 'gate_decisions',
      columns: DECISION_COLUMNS,
      filters: [
        ['decided_at >= ?', q.from],
        ['decided_at < ?', q.to],
        ['engine_id = ?', q.engineId],
        ['strategy_id = ?', q.strategyId],
        ['action = ?', q.action],
        ['risk_level = ?', q.riskLevel],
      ],
      key: ['decided_at', 'decision_id'],
      keyType: 'timestamptz',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
      rawJson: ['reasons'],
    });
  }

  @Route({
    method: 'GET',
    path: ':id',
    summary: 'One decision with its request and full verdict (checks explained)',
    access: 'viewer',
    params: DecisionParams,
    response: Type.Record(Type.String(), Type.Unknown()),
  })
  one(@ValidParams() p: Static<typeof DecisionParams>) {
    return this.read.one(
      `SELECT ${DECISION_COLUMNS}, verdict::text AS verdict, request::text AS request FROM gate_decisions
       WHERE decision_id = $1`,
      [p.id],
      `decision ${p.id}`,
      ['reasons', 'verdict', 'request'],
    );
  }
}

const ReservationsQuery = object({
  engineId: Type.Optional(EntityId),
  status: Type.Optional(literals(RESERVATION_STATUSES)),
  day: Type.Optional(Day),
  limit: Limit,
  cursor: Cursor,
});

const RiskDecisionsQuery = object({
  engineId: Type.Optional(EntityId),
  outcome: Type.Optional(literals(['GRANTED', 'DENIED'] as const)),
  day: Type.Optional(Day),
  reservationId: Type.Optional(ReservationId),
  limit: Limit,
  cursor: Cursor,
});

@ApiController('risk', 'risk')
export class RiskReadController {
  constructor(@Inject(ReadModels) private readonly read: ReadModels) {}

  @Route({
    method: 'GET',
    path: 'reservations',
    summary:
      'Reservations from the read model (latest state each), newest day first, by engine, status and day, with cursor pagination (pass nextCursor as cursor)',
    access: 'viewer',
    query: ReservationsQuery,
    response: Page,
  })
  reservations(@ValidQuery() q: Static<typeof ReservationsQuery>) {
    return this.read.page({
      table: 'risk_reservations',
      columns: '*',
      filters: [
        ['engine_id = ?', q.engineId],
        ['status = ?', q.status],
        ['day = ?', q.day],
      ],
      key: ['day', 'reservation_id'],
      keyType: 'text',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }

  @Route({
    method: 'GET',
    path: 'engines/:engineId/usage',
    summary:
      "An engine's (or GLOBAL's) usage per day against its limits, newest day first, with cursor pagination (pass nextCursor as cursor): a closed day's final usage, the current day's as of its latest reservation decision",
    description:
      'A day is closed (`closedAt` set) once the next ledger day opened: its usage is then final, settles, ' +
      "releases and expiries included. Until then the row is the usage after the day's latest reservation " +
      'decision (`decidedAt`): what was settled, released or expired since shows from the next reservation on. ' +
      'Usage exact to the last entry, for today: GET /api/v1/risk/ledger/today (live from risk-guard).',
    access: 'viewer',
    params: EngineParams,
    query: ListQuery,
    response: Page,
  })
  usage(@ValidParams() p: Static<typeof EngineParams>, @ValidQuery() q: Static<typeof ListQuery>) {
    return this.read.page({
      table: 'risk_usage',
      columns: '*',
      filters: [['policy_id = ?', p.engineId]],
      key: ['day', 'policy_id'],
      keyType: 'text',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }

  @Route({
    method: 'GET',
    path: 'decisions',
    summary:
      'Reserve decisions as recorded (request, reply with its checks), newest first, by engine, outcome, day and reservation, with cursor pagination (pass nextCursor as cursor)',
    description:
      'One row per decision from the decision records on bifrost.dec.risk.<engineId>; `eventId` is the record holding it ' +
      "(one record holds an engine's decisions of one batch of the risk desk). Replays of an idempotency key are not " +
      'decisions and have no row.',
    access: 'viewer',
    query: RiskDecisionsQuery,
    response: Page,
  })
  decisions(@ValidQuery() q: Static<typeof RiskDecisionsQuery>) {
    return this.read.page({
      table: 'risk_reservation_decisions',
      columns: `reservation_id, event_id, engine_id, outcome, reason, day, ${isoTime('decided_at')}, request::text AS request, reply::text AS reply`,
      rawJson: ['request', 'reply'],
      filters: [
        ['engine_id = ?', q.engineId],
        ['outcome = ?', q.outcome],
        ['day = ?', q.day],
        ['reservation_id = ?', q.reservationId],
      ],
      key: ['decided_at', 'reservation_id'],
      keyType: 'timestamptz',
      order: 'desc',
      cursor: q.cursor,
      limit: q.limit,
    });
  }
}
