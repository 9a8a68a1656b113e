import { Inject } from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import {
  APPROVAL_STATUSES,
  BaselineRegistered,
  Check,
  DENIAL_REASONS,
  EngineModeSchema,
  EntityId,
  ExecutionClassSchema,
  GateAction,
  GateAutonomyPhaseApplied,
  GateCheckReply,
  GateCheckRequest,
  GoLiveChecklistItemSchema,
  KillSwitchModeSchema,
  LedgerEntry,
  MaturityDemoted,
  MaturityLevelSchema,
  MaturityOverridden,
  MaturityPromoted,
  Money,
  RESERVATION_STATUSES,
  ReservationId,
  ReserveReply,
  ReserveRequest,
  RISK_LEVELS,
  RiskLevelSchema,
  RiskLimits,
  RiskPolicyId,
  RiskUsage,
  StrategyPaused,
  Timestamp,
  TOKEN_STATUSES,
  TokenId,
  TokenRefused,
  TokenScope,
  Uuid,
  VERDICT_ACTIONS,
  VerdictActionSchema,
  literals,
  object,
  type ApprovalStatus,
} from '@bifrost/contracts';
import { ApiController, Route, ValidParams, ValidQuery } from '../http/route';
import {
  Cursor,
  Day,
  EngineParams,
  Limit,
  ListQuery,
  StrategyParams,
  nullable,
  pageOf,
} from '../http/schemas';
import { assertRangeOrder, isoTime, ReadModels, theRow } from './read-models.service';

/**
 * What lapses by the clock, with no event to record it (the gate compares with `now`), read as of
 * now: a pause whose cooldown has passed is no longer paused, an active token past its expiry is
 * `expired` (as a pending approval past its expiry is, below).
 */
const PAUSED_NOW = '(paused AND (cooldown_until IS NULL OR cooldown_until > now())) AS paused';
const CONTROL_ENGINE_COLUMNS = `engine_id, mode, mode_set_at, ${PAUSED_NOW}, pause_reason, pause_cause, cooldown_until,
  paused_at, resumed_at, autonomy_phase, whitelist, phase_applied_at`;
const STRATEGY_COLUMNS = `engine_id, strategy_id, level, level_changed_at, demotion_pending, demotion_pending_from, capital, registered_at,
  outcomes, wins, losses, pnl_total, last_outcome_id, last_outcome_pnl, last_outcome_at, baseline, ${PAUSED_NOW},
  pause_reason, pause_drift, cooldown_until, paused_by, paused_at, resumed_at`;
const TOKEN_COLUMNS = `token_id, engine_id, strategy_id,
  CASE WHEN status = 'active' AND expires_at <= now() THEN 'expired' ELSE status END AS status, scope, max_notional,
  expires_at, single_use, bound_action_hash, approval_id, issued_by, issued_at, revoked_by, revoked_at, revoke_reason,
  uses, last_used_at, refusals, last_refusal`;

const GoLiveRow = object({
  enabled: Type.Boolean(),
  reason: nullable(Type.String()),
  changedBy: nullable(Type.String()),
  changedAt: nullable(Timestamp),
  lastRefusedAt: nullable(Timestamp),
  lastRefusedItems: nullable(Type.Array(GoLiveChecklistItemSchema)),
});
const ChecklistRow = object({
  item: GoLiveChecklistItemSchema,
  passed: Type.Boolean(),
  reportedBy: Type.String(),
  evidence: nullable(Type.String()),
  recordedAt: Timestamp,
});
/** `kind` `global` (`scope` `global`) or `engine` (`scope` the engine id, which may be `global` too). */
const KillSwitchRow = object({
  kind: literals(['global', 'engine']),
  scope: Type.String(),
  engaged: Type.Boolean(),
  mode: KillSwitchModeSchema,
  reason: Type.String(),
  cause: nullable(Type.String()),
  engagedBy: Type.String(),
  engagedAt: Timestamp,
  releasedBy: nullable(Type.String()),
  releasedAt: nullable(Timestamp),
});
const ExecutionClassRow = object({
  actionKind: Type.String(),
  executionClass: ExecutionClassSchema,
  reason: Type.String(),
  setBy: Type.String(),
  setAt: Timestamp,
});
const ControlEngineRow = object({
  engineId: EntityId,
  mode: EngineModeSchema,
  modeSetAt: nullable(Timestamp),
  paused: Type.Boolean(),
  pauseReason: nullable(Type.String()),
  pauseCause: nullable(Type.String()),
  cooldownUntil: nullable(Timestamp),
  pausedAt: nullable(Timestamp),
  resumedAt: nullable(Timestamp),
  autonomyPhase: nullable(GateAutonomyPhaseApplied.data.properties.phase),
  whitelist: nullable(GateAutonomyPhaseApplied.data.properties.whitelist),
  phaseAppliedAt: nullable(Timestamp),
});
/** `pnlTotal`: the sum of the outcomes' pnl, in minor units of their currency. */
const StrategyRow = object({
  engineId: EntityId,
  strategyId: EntityId,
  level: MaturityLevelSchema,
  levelChangedAt: nullable(Timestamp),
  demotionPending: Type.Boolean(),
  /** While a demotion is pending, the level the engine last knew (a check will answer DEMOTE from it). */
  demotionPendingFrom: nullable(MaturityLevelSchema),
  capital: nullable(Money),
  registeredAt: nullable(Timestamp),
  outcomes: Type.Integer(),
  wins: Type.Integer(),
  losses: Type.Integer(),
  pnlTotal: Type.Integer(),
  lastOutcomeId: nullable(Type.String()),
  lastOutcomePnl: nullable(Money),
  lastOutcomeAt: nullable(Timestamp),
  baseline: nullable(BaselineRegistered.data),
  paused: Type.Boolean(),
  pauseReason: nullable(Type.String()),
  pauseDrift: StrategyPaused.data.properties.drift,
  cooldownUntil: nullable(Timestamp),
  pausedBy: nullable(Type.String()),
  pausedAt: nullable(Timestamp),
  resumedAt: nullable(Timestamp),
});
const TokenRow = object({
  tokenId: TokenId,
  engineId: EntityId,
  strategyId: EntityId,
  status: literals(TOKEN_STATUSES),
  scope: TokenScope,
  maxNotional: nullable(Money),
  expiresAt: Timestamp,
  singleUse: Type.Boolean(),
  boundActionHash: nullable(Type.String()),
  approvalId: nullable(Type.String()),
  issuedBy: Type.String(),
  issuedAt: Timestamp,
  revokedBy: nullable(Type.String()),
  revokedAt: nullable(Timestamp),
  revokeReason: nullable(Type.String()),
  uses: Type.Integer(),
  lastUsedAt: nullable(Timestamp),
  refusals: Type.Integer(),
  lastRefusal: nullable(TokenRefused.data),
});
/** `detail`: the data of the promotion, demotion or override event. */
const MaturityChangeRow = object({
  eventId: Type.String(),
  engineId: EntityId,
  strategyId: EntityId,
  kind: literals(['promoted', 'demoted', 'overridden']),
  fromLevel: MaturityLevelSchema,
  toLevel: MaturityLevelSchema,
  detail: Type.Union([MaturityPromoted.data, MaturityDemoted.data, MaturityOverridden.data]),
  changedAt: Timestamp,
});

@ApiController('control', 'control')
export class ControlReadController {
  constructor(@Inject(ReadModels) private readonly read: ReadModels) {}

  @Route({
    method: 'GET',
    path: '',
    summary: 'Control plane state: go-live, checklist, kill switches, execution classes, engines',
    access: 'viewer',
    response: object({
      /** Just `{ enabled: false }` until go-live was first switched or refused. */
      goLive: Type.Union([GoLiveRow, object({ enabled: Type.Literal(false) })]),
      checklist: Type.Array(ChecklistRow),
      killSwitches: Type.Array(KillSwitchRow),
      executionClasses: Type.Array(ExecutionClassRow),
      engines: Type.Array(ControlEngineRow),
    }),
    example: {
      response: {
        goLive: { enabled: false },
        checklist: [],
        killSwitches: [
          {
            kind: 'global',
            scope: 'global',
            engaged: true,
            mode: 'hard',
            reason: 'operator drill',
            cause: null,
            engagedBy: '3f9a1c2b7d4e5f60',
            engagedAt: '2026-11-21T20:42:55.123Z',
            releasedBy: null,
            releasedAt: null,
          },
        ],
        executionClasses: [
          {
            actionKind: 'order.place',
            executionClass: 'SANDBOX_EXEC',
            reason: 'sandbox first',
            setBy: '3f9a1c2b7d4e5f60',
            setAt: '2026-11-21T20:40:00.000Z',
          },
        ],
        engines: [],
      },
    },
  })
  async state() {
    const [goLive, checklist, killSwitches, executionClasses, engines] = await this.read.snapshot([
      {
        sql: 'SELECT enabled, reason, changed_by, changed_at, last_refused_at, last_refused_items FROM control_go_live',
      },
      { sql: 'SELECT * FROM control_checklist ORDER BY item' },
      // The global switch first, then the engines'.
      { sql: `SELECT * FROM control_kill_switches ORDER BY kind = 'global' DESC, scope` },
      { sql: 'SELECT * FROM control_execution_classes ORDER BY action_kind' },
      { sql: `SELECT ${CONTROL_ENGINE_COLUMNS} FROM control_engines ORDER BY engine_id` },
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
    response: pageOf(StrategyRow),
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
      strategy: StrategyRow,
      tokens: Type.Array(TokenRow),
      maturityChanges: Type.Array(MaturityChangeRow),
    }),
  })
  async one(@ValidParams() p: Static<typeof StrategyParams>) {
    const key = [p.engineId, p.strategyId];
    const [strategies, tokens, maturityChanges] = await this.read.snapshot([
      {
        sql: `SELECT ${STRATEGY_COLUMNS} FROM strategies WHERE engine_id = $1 AND strategy_id = $2`,
        params: key,
      },
      {
        sql: `SELECT ${TOKEN_COLUMNS} FROM execution_tokens WHERE engine_id = $1 AND strategy_id = $2
         ORDER BY issued_at DESC LIMIT 200`,
        params: key,
      },
      {
        sql: 'SELECT * FROM strategy_maturity_changes WHERE engine_id = $1 AND strategy_id = $2 ORDER BY changed_at DESC LIMIT 200',
        params: key,
      },
    ]);
    return { strategy: theRow(strategies, `strategy ${key.join('/')}`), tokens, maturityChanges };
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
const ApprovalRow = object({
  approvalId: Type.String(),
  engineId: EntityId,
  strategyId: EntityId,
  status: literals(APPROVAL_STATUSES),
  actionHash: Type.String(),
  action: GateAction,
  requestedBy: Type.String(),
  requestedAt: Timestamp,
  expiresAt: Timestamp,
  decidedBy: nullable(Type.String()),
  decidedAt: nullable(Timestamp),
  tokenId: nullable(Type.String()),
  tokenExpiresAt: nullable(Timestamp),
  rejectReason: nullable(Type.String()),
});

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
    response: pageOf(ApprovalRow),
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
const DecisionRow = object({
  decisionId: Uuid,
  decidedAt: Timestamp,
  engineId: EntityId,
  strategyId: EntityId,
  action: VerdictActionSchema,
  riskLevel: RiskLevelSchema,
  mode: EngineModeSchema,
  sizeMultiplier: Type.Number(),
  actionKind: Type.String(),
  actionHash: Type.String(),
  policyRevision: Type.String(),
  approvalId: nullable(Type.String()),
  requestId: nullable(Type.String()),
  latencyMicros: nullable(Type.Integer()),
  reasons: Type.Array(Check),
  streamSeq: Type.Integer(),
});

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
    response: pageOf(DecisionRow),
    example: {
      response: {
        items: [
          {
            decisionId: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b',
            decidedAt: '2026-11-21T20:42:55.123Z',
            engineId: 'wholesale-bot',
            strategyId: 'mean-revert',
            action: 'KILL',
            riskLevel: 'HIGH',
            mode: 'enforce',
            sizeMultiplier: 0,
            actionKind: 'order.place',
            actionHash: '2f6980d9ccdf869c9d47cd9e61d13ee1cc768c3e2b84f47ba2bcf8a890dfe966',
            policyRevision: 'fd0a77ed1066e22928683ab679df5aaf15e1a86c377b360e721fb535c14f8a90',
            approvalId: null,
            requestId: 'order-8812',
            latencyMicros: 1340,
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
            streamSeq: 1234,
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
    response: object({ ...DecisionRow.properties, verdict: GateCheckReply, request: GateCheckRequest }),
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

/** `latest`: the data of the reservation's latest ledger entry (granted, denied, settled …). */
const ReservationRow = object({
  reservationId: ReservationId,
  engineId: nullable(EntityId),
  day: Day,
  status: literals(RESERVATION_STATUSES),
  latest: Type.Union(
    LedgerEntry.anyOf
      .filter((entry) => entry.properties.type.const.startsWith('Reservation'))
      .map((entry) => entry.properties.data),
  ),
});
/** `limits`: null when the projector saw no reservation decision of the day, only its close. */
const UsageRow = object({
  day: Day,
  policyId: RiskPolicyId,
  usage: RiskUsage,
  limits: nullable(RiskLimits),
  decidedAt: Timestamp,
  closedAt: nullable(Timestamp),
});
const RiskDecisionRow = object({
  reservationId: ReservationId,
  eventId: Type.String(),
  engineId: EntityId,
  outcome: ReserveReply.properties.outcome,
  reason: nullable(literals(DENIAL_REASONS)),
  day: Day,
  decidedAt: Timestamp,
  request: ReserveRequest,
  reply: ReserveReply,
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
    response: pageOf(ReservationRow),
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
    response: pageOf(UsageRow),
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
    response: pageOf(RiskDecisionRow),
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
