import { Type, type Static, type TSchema } from '@sinclair/typebox';

import { Actor, Timestamp } from '../envelope';
import { okReplyOf } from '../errors';
import { defineMessage, defineRpc } from '../registry';
import { EntityId } from '../verdict';
import { CommandReason, literals, object, Reason, idPattern } from '../schema';

/** What a tripped policy asks for: risk-guard throttles the engine, or the gate kills it. */
export const TRIPWIRE_ACTIONS = ['THROTTLE', 'KILL_SWITCH'] as const;
/**
 * What a KILL_SWITCH trip stops: the engine that regressed (`engine`, the default) or every engine
 * (`global`, seed 000's "engage global kill"; the seeded CAPITAL roi_event policy).
 */
export const TRIPWIRE_KILL_SCOPES = ['engine', 'global'] as const;
export type TripwireKillScope = (typeof TRIPWIRE_KILL_SCOPES)[number];
export type TripwireAction = (typeof TRIPWIRE_ACTIONS)[number];

/** The result of evaluating one engine's windows against a policy. */
export const EVALUATION_RESULTS = [
  'INSUFFICIENT_DATA',
  'NO_DROP',
  'DROP_NOT_SIGNIFICANT',
  'TRIPPED',
] as const;
export type EvaluationResult = (typeof EVALUATION_RESULTS)[number];

/** A KPI name, e.g. `contract_rate`. */
export const KpiMetric = Type.String({
  pattern: idPattern('^[a-z][a-z0-9_]{0,63}$'),
  examples: ['contract_rate'],
});
/** `<domain>-<metric>`, e.g. `WHOLESALE-contract_rate`: one policy per (domain, metric). */
export const TripwirePolicyId = Type.String({ pattern: idPattern('^[A-Za-z0-9][A-Za-z0-9_-]{0,129}$') });
const Count = Type.Integer({ minimum: 0 });
const Rate = Type.Number({ minimum: 0, maximum: 1 });

export const TripwirePolicyConfig = object({
  domain: EntityId,
  metric: KpiMetric,
  /** N: the most recent KPI events of an engine. */
  recentWindow: Type.Integer({ minimum: 1, maximum: 10_000 }),
  /** M: the events just before the recent window, the baseline it is compared with. */
  baselineWindow: Type.Integer({ minimum: 1, maximum: 100_000 }),
  /** Trips when (baseline rate − recent rate) / baseline rate × 100 exceeds this. */
  maxDropPct: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
  /** Both windows need at least this many events before anything is evaluated. */
  minEvents: Type.Integer({ minimum: 1 }),
  action: literals(TRIPWIRE_ACTIONS),
  /** KILL_SWITCH only: what the trip stops; absent: `engine`. */
  killScope: Type.Optional(literals(TRIPWIRE_KILL_SCOPES)),
  enabled: Type.Boolean(),
  /** One-sided test of the drop (two-proportion z-test; Fisher's exact test when an expected count is below 5): significant at this confidence. */
  confidence: Type.Number({ minimum: 0.5, exclusiveMaximum: 1 }),
});
export type TripwirePolicyConfig = Static<typeof TripwirePolicyConfig>;

/** One window of one engine's KPI events; `from`/`to` number the events since the last reset (1-based). */
export const KpiWindow = object({ from: Count, to: Count, count: Count, successes: Count, rate: Rate });
export type KpiWindow = Static<typeof KpiWindow>;

/** Why a policy tripped (or did not): both windows, the drop and its significance. */
export const TripwireEvidence = object({
  baseline: KpiWindow,
  recent: KpiWindow,
  /** Null when the baseline rate is 0: nothing can drop. */
  dropPct: Type.Union([Type.Null(), Type.Number()]),
  maxDropPct: Type.Number(),
  zScore: Type.Union([Type.Null(), Type.Number()]),
  /** One-sided p-value of "the recent rate is lower than the baseline rate". */
  pValue: Type.Union([Type.Null(), Type.Number({ minimum: 0, maximum: 1 })]),
  confidence: Type.Number(),
  minEvents: Count,
});
export type TripwireEvidence = Static<typeof TripwireEvidence>;

export const TripwireEvaluation = object({
  policyId: TripwirePolicyId,
  engineId: EntityId,
  result: literals(EVALUATION_RESULTS),
  evidence: TripwireEvidence,
});
export type TripwireEvaluation = Static<typeof TripwireEvaluation>;

// ── Events: `bifrost.evt.tripwire.policy.<policyId>` ────────────────────────────────────────────

const policyEvent = <T extends string, D extends TSchema>(
  type: T,
  description: string,
  data: D,
  consumers: string[] = ['tripwire (state rebuild)', 'projector'],
) =>
  defineMessage({
    type: `tripwire.${type}` as const,
    version: 1,
    kind: 'event',
    producer: 'tripwire',
    consumers,
    subject: 'bifrost.evt.tripwire.policy.{policyId}',
    description,
    data,
  });

export const TripwirePolicyDefined = policyEvent(
  'PolicyDefined',
  'A regression policy was created (seed or operator) or its settings changed.',
  object({
    policyId: TripwirePolicyId,
    policy: TripwirePolicyConfig,
    previous: Type.Union([Type.Null(), TripwirePolicyConfig]),
    actor: Actor,
    reason: Reason,
    at: Timestamp,
  }),
);
const toggle = object({ policyId: TripwirePolicyId, actor: Actor, reason: Reason, at: Timestamp });
export const TripwirePolicyEnabled = policyEvent('PolicyEnabled', 'A regression policy was enabled.', toggle);
export const TripwirePolicyDisabled = policyEvent(
  'PolicyDisabled',
  'A regression policy was disabled: its windows keep filling, it trips nothing.',
  toggle,
);
export const TripwireKpiRecorded = policyEvent(
  'KpiRecorded',
  "A KPI event entered an engine's windows of the policy for its (domain, metric).",
  object({
    policyId: TripwirePolicyId,
    engineId: EntityId,
    success: Type.Boolean(),
    value: Type.Optional(Type.Number()),
    /** The id of the ingest envelope: a redelivered KPI is recorded once. */
    kpiId: Type.String({ minLength: 1, maxLength: 100 }),
    /**
     * Where the KPI sat in the ingest stream (its stream sequence): a KPI at or below the last one
     * recorded in the same stream is a redelivery, however many KPIs came since. Absent on events
     * recorded before it was kept.
     */
    ingestSequence: Type.Optional(Type.Integer({ minimum: 1 })),
    /**
     * When that ingest stream was created, as NATS states it (nanoseconds): a recreated stream
     * numbers its KPIs from 1 again. Present exactly when `ingestSequence` is.
     */
    ingestStreamCreated: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    at: Timestamp,
  }),
);

/**
 * The real `tripwire.TripwireTriggered`. The tripwire service always fills `domain`, `metric`,
 * `evidence` and `triggeredAt`; they are optional in the schema only because hand-made triggers
 * (tests of the consumers, manual injection) carry just what the consumers read.
 */
export const TripwireTriggered = policyEvent(
  'TripwireTriggered',
  "A regression policy tripped for an engine: THROTTLE (risk-guard throttles the engine's risk policy) or KILL_SWITCH (the gate engages a hard kill switch for the engine, or the global one with killScope global). It stays tripped until an operator resets it.",
  object({
    policyId: TripwirePolicyId,
    engineId: EntityId,
    action: literals(TRIPWIRE_ACTIONS),
    /** KILL_SWITCH: `global` engages the global kill switch; absent or `engine`: the engine's. */
    killScope: Type.Optional(literals(TRIPWIRE_KILL_SCOPES)),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
    domain: Type.Optional(EntityId),
    metric: Type.Optional(KpiMetric),
    evidence: Type.Optional(TripwireEvidence),
    triggeredAt: Type.Optional(Timestamp),
  }),
  ['risk-guard', 'gate', 'tripwire (state rebuild)', 'projector'],
);
export const TripwireReset = policyEvent(
  'TripwireReset',
  "An operator reset an engine's windows of a policy (re-baseline); a tripped policy is armed again. Throttles and kill switches are lifted separately.",
  object({
    policyId: TripwirePolicyId,
    engineId: EntityId,
    wasTriggered: Type.Boolean(),
    actor: Actor,
    reason: Reason,
    at: Timestamp,
  }),
);

export const tripwireMessages = [
  TripwirePolicyDefined,
  TripwirePolicyEnabled,
  TripwirePolicyDisabled,
  TripwireKpiRecorded,
  TripwireTriggered,
  TripwireReset,
];

// ── Requests and replies: `bifrost.rpc.tripwire.<operation>` ────────────────────────────────────

export const TripwireEngineView = object({
  engineId: EntityId,
  /** Events recorded since the last reset. */
  observed: Count,
  triggered: Type.Union([Type.Null(), object({ at: Timestamp, action: literals(TRIPWIRE_ACTIONS) })]),
  evaluation: TripwireEvaluation,
});
export const TripwirePolicyView = Type.Composite(
  [
    TripwirePolicyConfig,
    object({
      policyId: TripwirePolicyId,
      updatedAt: Timestamp,
      engines: Type.Array(TripwireEngineView),
    }),
  ],
  { additionalProperties: false },
);
export type TripwirePolicyView = Static<typeof TripwirePolicyView>;

export const UpsertTripwirePolicyCommand = object({
  actor: Actor,
  reason: CommandReason,
  domain: EntityId,
  metric: KpiMetric,
  recentWindow: Type.Integer({ minimum: 1, maximum: 10_000 }),
  baselineWindow: Type.Integer({ minimum: 1, maximum: 100_000 }),
  /** Below 100: a rate cannot drop by more than 100 %, so a policy at 100 could never trip. */
  maxDropPct: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 100 }),
  /** At most either window (checked by the decider): larger, the windows never hold enough events. */
  minEvents: Type.Integer({ minimum: 1 }),
  action: literals(TRIPWIRE_ACTIONS),
  /** KILL_SWITCH only: `engine` or `global`. Absent: a change keeps the current value, a new policy `engine`. */
  killScope: Type.Optional(literals(TRIPWIRE_KILL_SCOPES)),
  /** Absent: a change keeps the current value, a new policy is disabled (seed 000). */
  enabled: Type.Optional(Type.Boolean()),
  confidence: Type.Optional(Type.Number({ minimum: 0.5, exclusiveMaximum: 1 })),
});
export type UpsertTripwirePolicyCommand = Static<typeof UpsertTripwirePolicyCommand>;

export const TripwirePolicyCommand = object({
  actor: Actor,
  reason: CommandReason,
  policyId: TripwirePolicyId,
});
export type TripwirePolicyCommand = Static<typeof TripwirePolicyCommand>;

export const ResetTripwireCommand = object({
  actor: Actor,
  reason: CommandReason,
  policyId: TripwirePolicyId,
  engineId: EntityId,
});
export type ResetTripwireCommand = Static<typeof ResetTripwireCommand>;

export const EvaluateTripwireCommand = object({
  actor: Actor,
  /** Every policy when absent. */
  policyId: Type.Optional(TripwirePolicyId),
});
export type EvaluateTripwireCommand = Static<typeof EvaluateTripwireCommand>;

const tripwireRpc = <Req extends TSchema, Res extends TSchema>(
  operation: string,
  request: Req,
  response: Res,
  description: string,
) => defineRpc({ service: 'tripwire', operation, request, response: okReplyOf(response), description });

export const tripwireRpcs = [
  tripwireRpc(
    'cmd.upsert-policy',
    UpsertTripwirePolicyCommand,
    TripwirePolicyView,
    'Operator: create the policy of a (domain, metric), disabled unless `enabled` is true, or change its settings (`enabled` unchanged when absent).',
  ),
  tripwireRpc('cmd.enable-policy', TripwirePolicyCommand, TripwirePolicyView, 'Operator: enable a policy.'),
  tripwireRpc('cmd.disable-policy', TripwirePolicyCommand, TripwirePolicyView, 'Operator: disable a policy.'),
  tripwireRpc(
    'cmd.reset',
    ResetTripwireCommand,
    TripwirePolicyView,
    "Operator: reset an engine's windows of a policy (re-baseline) and re-arm it.",
  ),
  tripwireRpc(
    'cmd.evaluate',
    EvaluateTripwireCommand,
    object({ evaluations: Type.Array(TripwireEvaluation) }),
    'Evaluate now (after a policy change, say): trips what should trip and returns every evaluation.',
  ),
  tripwireRpc(
    'policies',
    object({}),
    object({ policies: Type.Array(TripwirePolicyView) }),
    'The policies with the state and current evaluation of every engine.',
  ),
];
