import { Type, type Static, type TInteger, type TSchema } from '@sinclair/typebox';

import { Actor, Timestamp, Uuid } from '../envelope';
import { okReplyOf } from '../errors';
import { defineMessage, defineRpc } from '../registry';
import { Check, EntityId, Money } from '../verdict';
import { CommandReason, literals, object, Reason } from '../schema';

/** The policy every reservation must pass besides its engine's own (dual control). */
export const GLOBAL_POLICY_ID = 'GLOBAL';

export const RISK_LIMITS = ['maxDailyLoss', 'maxDailyExposure', 'maxDailyActions'] as const;
export type RiskLimit = (typeof RISK_LIMITS)[number];

/** Why a reservation was refused; `LIMIT_EXCEEDED` comes with the violated limits. */
export const DENIAL_REASONS = ['NO_POLICY', 'POLICY_DISABLED', 'THROTTLED', 'LIMIT_EXCEEDED'] as const;
export type DenialReason = (typeof DENIAL_REASONS)[number];

/** GRANTED → SETTLED | RELEASED | EXPIRED | UNRESOLVED → RECONCILED; DENIED is final at once. */
export const RESERVATION_STATUSES = [
  'GRANTED',
  'SETTLED',
  'RELEASED',
  'EXPIRED',
  'UNRESOLVED',
  'RECONCILED',
  'DENIED',
] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** `GLOBAL` or an engine id. */
export const RiskPolicyId = EntityId;
/** `Money` without negatives: up to 2^53 − 1 minor units, as every amount. */
export const NonNegativeMoney = object({
  amount: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'minor units (cents)' }),
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
});
export const ReservationId = Uuid;
export const IdempotencyKey = Type.String({ minLength: 1, maxLength: 200 });
const Amount = Type.Integer({ minimum: 0 });

/** What made a policy change: the seed on first start, an operator, or a tripwire event. */
export const PolicyChangeCause = object({
  kind: literals(['seed', 'operator', 'tripwire'] as const),
  /** Operator id, tripwire event id, or `seed`. */
  id: Type.String({ minLength: 1, maxLength: 200 }),
  reason: Type.Optional(Reason),
});
export type PolicyChangeCause = Static<typeof PolicyChangeCause>;

export const RiskLimits = object({
  maxDailyLoss: NonNegativeMoney,
  maxDailyExposure: NonNegativeMoney,
  maxDailyActions: Type.Integer({ minimum: 0 }),
});
export type RiskLimits = Static<typeof RiskLimits>;

export const RiskPolicy = Type.Composite(
  [
    RiskLimits,
    object({
      policyId: RiskPolicyId,
      enabled: Type.Boolean(),
      throttled: Type.Union([Type.Null(), object({ since: Timestamp, cause: PolicyChangeCause })]),
      updatedAt: Timestamp,
    }),
  ],
  { additionalProperties: false },
);
export type RiskPolicy = Static<typeof RiskPolicy>;

/** One policy's use of its day, in minor units of the ledger currency. */
export const RiskUsage = object({
  realizedLoss: Amount,
  reservedLoss: Amount,
  reservedExposure: Amount,
  actions: Amount,
});
export type RiskUsage = Static<typeof RiskUsage>;

/** A limit a reservation would have broken: headroom = limit − current (< requested). */
export const LimitViolation = object({
  policyId: RiskPolicyId,
  limit: literals(RISK_LIMITS),
  limitValue: Type.Integer(),
  current: Type.Integer(),
  requested: Type.Integer(),
  headroom: Type.Integer(),
});
export type LimitViolation = Static<typeof LimitViolation>;

// ── Ledger entries: the domain events of the daily ledger ───────────────────────────────────────

/**
 * Carried reservations per ledger entry: ~300–600 bytes each, so that an entry, stored in a message
 * of its own, stays well below NATS's default max_payload of 1 MiB however many are open at midnight.
 */
export const LEDGER_CARRY_CHUNK = 1000;

export const CarriedReservation = object({
  reservationId: ReservationId,
  engineId: EntityId,
  idempotencyKey: IdempotencyKey,
  status: literals(['GRANTED', 'UNRESOLVED'] as const),
  maxLoss: Money,
  exposure: Money,
  grantedAt: Timestamp,
  expiresAt: Timestamp,
  /**
   * Of an UNRESOLVED reservation: whether its outcome became unknown after it had expired (and was
   * counted again), so that its replies say so on the new day too. Absent on GRANTED ones, and in
   * entries written before the field existed.
   */
  afterExpiry: Type.Optional(Type.Boolean()),
});
export type CarriedReservation = Static<typeof CarriedReservation>;

const entry = <T extends string, D extends TSchema>(type: T, data: D) =>
  object({ type: Type.Literal(type), data });

export const LedgerEntry = Type.Union([
  entry(
    'LedgerOpened',
    object({
      day: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
      timeZone: Type.String({ minLength: 1 }),
      openedAt: Timestamp,
      previousDay: Type.Union([Type.Null(), Type.String()]),
      /**
       * Reservations still open at the day boundary keep counting on the new day: up to
       * {@link LEDGER_CARRY_CHUNK} here (entries written before it hold them all), the rest in
       * `ReservationsCarried` entries after it.
       */
      carriedOver: Type.Array(CarriedReservation),
      /**
       * How many reservations the opening carries in all, present when they do not fit in this
       * entry: the `ReservationsCarried` entries that follow (each in a message of its own) hold
       * the rest. A day whose count is not reached yet is completed by the next command.
       */
      carriedTotal: Type.Optional(Type.Integer({ minimum: 0 })),
      /**
       * Usage per policy on `previousDay` as it closed: that day's final figures (whatever is said
       * about its reservations from now on is booked on the new day). Absent on a first day, and
       * in entries written before the field existed.
       */
      closing: Type.Optional(Type.Record(Type.String(), RiskUsage)),
    }),
  ),
  entry(
    'ReservationsCarried',
    object({
      /** More of the reservations the day's `LedgerOpened` carries (see its `carriedTotal`). */
      carriedOver: Type.Array(CarriedReservation, { minItems: 1 }),
    }),
  ),
  entry(
    'LeaderChanged',
    object({
      /**
       * The instance that took the lease (at a takeover), or the leader closing the day (its last entry,
       * before the next day's opening): entries decided by an earlier leader are refused from here on.
       */
      leader: Type.String({ minLength: 1 }),
      at: Timestamp,
    }),
  ),
  entry(
    'ReservationGranted',
    object({
      reservationId: ReservationId,
      engineId: EntityId,
      idempotencyKey: IdempotencyKey,
      maxLoss: Money,
      exposure: Money,
      grantedAt: Timestamp,
      expiresAt: Timestamp,
      actor: Actor,
    }),
  ),
  entry(
    'ReservationDenied',
    object({
      reservationId: ReservationId,
      engineId: EntityId,
      idempotencyKey: IdempotencyKey,
      maxLoss: Money,
      exposure: Money,
      deniedAt: Timestamp,
      reason: literals(DENIAL_REASONS),
      failingPolicy: RiskPolicyId,
      violations: Type.Array(LimitViolation),
      actor: Actor,
    }),
  ),
  entry(
    'ReservationSettled',
    object({
      reservationId: ReservationId,
      engineId: EntityId,
      realizedLoss: Money,
      /** Realized beyond the reserved max loss: booked in full all the same. */
      excess: Money,
      exceededReservation: Type.Boolean(),
      /** Settled after it had expired: the loss is booked, nothing is released twice. */
      afterExpiry: Type.Boolean(),
      settledAt: Timestamp,
      actor: Actor,
    }),
  ),
  entry(
    'ReservationReleased',
    object({ reservationId: ReservationId, engineId: EntityId, releasedAt: Timestamp, actor: Actor }),
  ),
  entry(
    'ReservationExpired',
    object({ reservationId: ReservationId, engineId: EntityId, expiredAt: Timestamp }),
  ),
  entry(
    'ReservationUnresolved',
    object({
      reservationId: ReservationId,
      engineId: EntityId,
      afterExpiry: Type.Boolean(),
      at: Timestamp,
      actor: Actor,
    }),
  ),
  entry(
    'ReservationReconciled',
    object({
      reservationId: ReservationId,
      engineId: EntityId,
      realizedLoss: Money,
      excess: Money,
      exceededReservation: Type.Boolean(),
      reconciledAt: Timestamp,
      note: Type.Optional(Reason),
      actor: Actor,
    }),
  ),
]);
export type LedgerEntry = Static<typeof LedgerEntry>;

/**
 * The daily ledger's journal: each message carries the entries one batch of serialized commands
 * produced, appended atomically with Nats-Expected-Last-Subject-Sequence.
 */
export const RiskLedgerEntriesRecorded = defineMessage({
  type: 'risk.LedgerEntriesRecorded',
  version: 1,
  kind: 'event',
  producer: 'risk-guard',
  consumers: ['risk-guard (state rebuild)', 'projector'],
  subject: 'bifrost.evt.risk.ledger.{day}',
  description:
    'Entries of the daily risk ledger (reservations granted, denied, settled, released, expired, unresolved, reconciled; day opened; leader changed), in decision order.',
  data: object({
    day: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
    entries: Type.Array(LedgerEntry, { minItems: 1 }),
  }),
});

// ── Policy events: `bifrost.evt.risk.policy.<policyId>` ─────────────────────────────────────────

const policyEvent = <T extends string, P extends Parameters<typeof Type.Object>[0]>(
  type: T,
  description: string,
  properties: P,
) =>
  defineMessage({
    type: `risk.${type}` as const,
    version: 1,
    kind: 'event',
    producer: 'risk-guard',
    consumers: ['risk-guard (state rebuild)', 'gate (go-live fact riskPoliciesPresent, GLOBAL)', 'projector'],
    subject: 'bifrost.evt.risk.policy.{policyId}',
    description,
    data: object({ policyId: RiskPolicyId, cause: PolicyChangeCause, at: Timestamp, ...properties }),
  });

export const RiskPolicyDefined = policyEvent(
  'PolicyDefined',
  'A risk policy was created (seed or operator) or its limits changed.',
  { limits: RiskLimits, enabled: Type.Boolean(), previous: Type.Union([Type.Null(), RiskLimits]) },
);
export const RiskPolicyEnabled = policyEvent('PolicyEnabled', 'A risk policy was enabled.', {});
export const RiskPolicyDisabled = policyEvent(
  'PolicyDisabled',
  'A risk policy was disabled: its engine (or, for GLOBAL, every engine) is denied.',
  {},
);
export const RiskPolicyThrottled = policyEvent(
  'PolicyThrottled',
  'A risk policy was throttled (tripwire THROTTLE or operator): reservations are denied with THROTTLED.',
  {},
);
export const RiskPolicyThrottleLifted = policyEvent(
  'PolicyThrottleLifted',
  'An operator lifted the throttle of a risk policy.',
  {},
);

// ── Requests and replies ─────────────────────────────────────────────────────────────────────────

export const ReserveRequest = object({
  engineId: EntityId,
  /** Same key, same result: a retried reserve never makes a second reservation. */
  idempotencyKey: IdempotencyKey,
  maxLoss: NonNegativeMoney,
  exposure: NonNegativeMoney,
  /** Time to live; the service default applies when absent, bounded by its maximum. */
  ttlMs: Type.Optional(Type.Integer({ minimum: 1 })),
  strategyId: Type.Optional(EntityId),
  requestId: Type.Optional(Type.String({ maxLength: 200 })),
});
export type ReserveRequest = Static<typeof ReserveRequest>;

export const ReserveReply = object({
  /** Names the decision in its record (`risk.ReservationsDecided`) and the reservation in the ledger. */
  reservationId: ReservationId,
  engineId: EntityId,
  outcome: literals(['GRANTED', 'DENIED'] as const),
  /** Current status (a replayed reply shows where the reservation is now). */
  status: literals(RESERVATION_STATUSES),
  maxLoss: Money,
  exposure: Money,
  day: Type.String(),
  decidedAt: Timestamp,
  expiresAt: Type.Optional(Timestamp),
  reason: Type.Optional(literals(DENIAL_REASONS)),
  failingPolicy: Type.Optional(RiskPolicyId),
  violations: Type.Optional(Type.Array(LimitViolation)),
  /** Per policy and limit: usage after this reservation against the limit. Absent on replays. */
  checks: Type.Optional(Type.Array(Check)),
  /** True when the idempotency key had been seen: this is the original result. */
  replayed: Type.Boolean(),
});
export type ReserveReply = Static<typeof ReserveReply>;

export const SETTLE_OUTCOMES = ['completed', 'unknown'] as const;
export const SettleRequest = object({
  engineId: EntityId,
  reservationId: ReservationId,
  /** `unknown`: the engine cannot tell whether the action executed → UNRESOLVED, still counted. */
  outcome: Type.Optional(literals(SETTLE_OUTCOMES)),
  /** Required when the outcome is `completed` (the default); a gain settles with 0. */
  realizedLoss: Type.Optional(NonNegativeMoney),
});
export type SettleRequest = Static<typeof SettleRequest>;

export const ReleaseRequest = object({ engineId: EntityId, reservationId: ReservationId });
export type ReleaseRequest = Static<typeof ReleaseRequest>;

export const ReconcileRequest = object({
  engineId: EntityId,
  reservationId: ReservationId,
  realizedLoss: NonNegativeMoney,
  /** An operator reconciling on the engine's behalf; the engine itself when absent. */
  actor: Type.Optional(Actor),
  note: Type.Optional(Reason),
});
export type ReconcileRequest = Static<typeof ReconcileRequest>;

/** What an engine sends to reconcile (SDK, `POST /api/v1/engine/reconcile`): as itself, no `actor`. */
export const EngineReconcileRequest = Type.Omit(ReconcileRequest, ['actor'], { additionalProperties: false });
export type EngineReconcileRequest = Static<typeof EngineReconcileRequest>;

export const ReservationReply = object({
  reservationId: ReservationId,
  engineId: EntityId,
  status: literals(RESERVATION_STATUSES),
  realizedLoss: Type.Optional(Money),
  excess: Type.Optional(Money),
  exceededReservation: Type.Optional(Type.Boolean()),
  afterExpiry: Type.Optional(Type.Boolean()),
});
export type ReservationReply = Static<typeof ReservationReply>;

export const UpsertPolicyCommand = Type.Composite(
  [
    RiskLimits,
    object({
      actor: Actor,
      reason: CommandReason,
      policyId: RiskPolicyId,
      enabled: Type.Optional(Type.Boolean()),
    }),
  ],
  { additionalProperties: false },
);
export type UpsertPolicyCommand = Static<typeof UpsertPolicyCommand>;

export const PolicyCommand = object({ actor: Actor, reason: CommandReason, policyId: RiskPolicyId });
export type PolicyCommand = Static<typeof PolicyCommand>;

export const ReservationView = object({
  reservationId: ReservationId,
  engineId: EntityId,
  status: literals(RESERVATION_STATUSES),
  maxLoss: Amount,
  exposure: Amount,
  expiresAt: Timestamp,
});

export const LedgerView = object({
  day: Type.Union([Type.Null(), Type.String()]),
  timeZone: Type.String(),
  currency: Type.Union([Type.Null(), Type.String()]),
  usage: Type.Record(Type.String(), RiskUsage),
  /**
   * The day's reserve decisions: granted and denied, the denials by reason (seed 000's weekly review:
   * "count denials by reason"; denial rate = denied ÷ (granted + denied)). Replays are not decisions.
   */
  decisions: object({
    granted: Type.Integer({ minimum: 0 }),
    denied: Type.Integer({ minimum: 0 }),
    /** Every reason, 0 when none was denied for it. */
    deniedByReason: object(
      Object.fromEntries(DENIAL_REASONS.map((reason) => [reason, Type.Integer({ minimum: 0 })])) as Record<
        DenialReason,
        TInteger
      >,
    ),
  }),
  /** The open reservations that expire first, at most {@link LEDGER_OPEN_LIMIT}; `openCount` is all of them. */
  open: Type.Array(ReservationView),
  openCount: Type.Integer({ minimum: 0 }),
});
export type LedgerView = Static<typeof LedgerView>;

/** Open reservations the live ledger lists: a reply must fit one NATS message (1 MB). */
export const LEDGER_OPEN_LIMIT = 1000;

const riskRpc = <Req extends TSchema, Res extends TSchema>(
  operation: string,
  request: Req,
  response: Res,
  description: string,
) => defineRpc({ service: 'risk', operation, request, response: okReplyOf(response), description });

export const riskRpcs = [
  riskRpc(
    'reserve',
    ReserveRequest,
    ReserveReply,
    'Reserve max loss and exposure before acting: granted only if GLOBAL and the engine policy both pass. Answered after the ledger entry and the decision record are acknowledged.',
  ),
  riskRpc(
    'settle',
    SettleRequest,
    ReservationReply,
    'Book the realized loss and free the reservation (or mark it UNRESOLVED).',
  ),
  riskRpc('release', ReleaseRequest, ReservationReply, 'Cancel a granted reservation that was not used.'),
  riskRpc(
    'reconcile',
    ReconcileRequest,
    ReservationReply,
    'Close an UNRESOLVED reservation with its realized loss.',
  ),
  riskRpc(
    'cmd.upsert-policy',
    UpsertPolicyCommand,
    RiskPolicy,
    'Operator: create a policy or change its limits.',
  ),
  riskRpc('cmd.enable-policy', PolicyCommand, RiskPolicy, 'Operator: enable a policy.'),
  riskRpc(
    'cmd.disable-policy',
    PolicyCommand,
    RiskPolicy,
    'Operator: disable a policy (its engine is denied).',
  ),
  riskRpc('cmd.throttle-policy', PolicyCommand, RiskPolicy, 'Operator: throttle a policy by hand.'),
  riskRpc('cmd.lift-throttle', PolicyCommand, RiskPolicy, 'Operator: lift a throttle (tripwire or manual).'),
  riskRpc('policies', object({}), object({ policies: Type.Array(RiskPolicy) }), 'The policies in force.'),
  riskRpc('ledger', object({}), LedgerView, "Today's ledger: usage per policy and open reservations."),
];

/** One reserve decision, as `risk.ReservationsDecided` carries it. */
export const ReservationDecision = object({
  request: ReserveRequest,
  reply: ReserveReply,
  /** Usage of GLOBAL and the engine policy right after this decision. */
  usage: Type.Record(Type.String(), RiskUsage),
});
export type ReservationDecision = Static<typeof ReservationDecision>;

/**
 * The decision records of reserve decisions, on `bifrost.dec.risk.<engineId>`: one message per
 * engine and decision batch of the desk (ADR 0014), each decision with its request, its reply as
 * sent and the usage after it.
 */
export const RiskReservationsDecided = defineMessage({
  type: 'risk.ReservationsDecided',
  version: 1,
  kind: 'decision',
  producer: 'risk-guard',
  consumers: ['projector', 'api-gateway (live stream)'],
  subject: 'bifrost.dec.risk.{engineId}',
  description:
    "Reservations of one engine granted or denied in one batch of the risk desk, in decision order: each with its request, its reply as sent and the usage of GLOBAL and the engine policy after it; `limits` are both policies' limits they were decided against.",
  data: object({
    limits: Type.Record(Type.String(), RiskLimits),
    decisions: Type.Array(ReservationDecision, { minItems: 1 }),
  }),
});

/** The decision record of one reserve decision, as risk-guard published it before ADR 0014. */
export const RiskReservationDecided = defineMessage({
  type: 'risk.ReservationDecided',
  version: 1,
  kind: 'decision',
  producer: 'risk-guard',
  consumers: ['projector', 'api-gateway (live stream)'],
  subject: 'bifrost.dec.risk.{engineId}',
  description:
    'A reservation granted or denied, with the usage of GLOBAL and the engine policy after it. No longer published (risk.ReservationsDecided replaces it); records already in BIFROST_DECISIONS are still projected.',
  data: Type.Composite([ReservationDecision, object({ limits: Type.Record(Type.String(), RiskLimits) })], {
    additionalProperties: false,
  }),
});

export const riskMessages = [
  RiskLedgerEntriesRecorded,
  RiskPolicyDefined,
  RiskPolicyEnabled,
  RiskPolicyDisabled,
  RiskPolicyThrottled,
  RiskPolicyThrottleLifted,
  RiskReservationsDecided,
  RiskReservationDecided,
];
