import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Actor, Timestamp, Uuid } from '../envelope';
import { okReplyOf } from '../errors';
import { defineMessage, defineRpc } from '../registry';
import { EntityId } from '../verdict';
import { CommandReason, literals, object, Reason, idPattern } from '../schema';

/** What a probe does when it reaches its failure threshold. */
export const PROBE_ACTIONS = ['alert_only', 'pause_engine', 'kill_switch'] as const;
export type ProbeAction = (typeof PROBE_ACTIONS)[number];
export const PROBE_KINDS = ['http', 'tcp', 'nats', 'postgres'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];
/** UNKNOWN until the first decisive result; DOWN after `failureThreshold` failures in a row. */
export const PROBE_STATUSES = ['UNKNOWN', 'UP', 'DOWN'] as const;
export type ProbeStatus = (typeof PROBE_STATUSES)[number];
/** A watched engine: heard from within its gap, silent too long, or signed off on purpose. */
export const ENGINE_HEALTHS = ['ALIVE', 'STALE', 'OFFLINE'] as const;
export type EngineHealth = (typeof ENGINE_HEALTHS)[number];

/** A probe name is one subject token: `bifrost.evt.canary.probe.<probeName>`. */
export const ProbeName = Type.String({
  pattern: idPattern('^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$'),
  examples: ['exchange-api'],
});
const Detail = Type.String({ maxLength: 500 });

/**
 * One probe. `target` by kind: http → URL (GET), tcp → `host:port`, nats → request subject
 * (namespaced like every Bifrost subject), postgres → connection URL, or `$DATABASE_URL` for the
 * canary's own configured database (keeps passwords out of the event stream).
 */
export const ProbeConfig = object({
  name: ProbeName,
  kind: literals(PROBE_KINDS),
  target: Type.String({ minLength: 1, maxLength: 500 }),
  intervalMs: Type.Integer({ minimum: 100, maximum: 86_400_000 }),
  timeoutMs: Type.Integer({ minimum: 10, maximum: 600_000 }),
  /** Consecutive failures that make the probe DOWN and fire its action. */
  failureThreshold: Type.Integer({ minimum: 1, maximum: 1_000 }),
  /** Consecutive passes a DOWN probe needs to count as recovered (flapping suppression). */
  recoveryThreshold: Type.Integer({ minimum: 1, maximum: 1_000 }),
  action: literals(PROBE_ACTIONS),
  /** pause_engine: the engine to pause (required); kill_switch: that engine's switch instead of the global one. */
  engineId: Type.Optional(EntityId),
  /** kill_switch: soft lets reduce-only actions through, hard blocks everything. */
  killMode: Type.Optional(Type.Union([Type.Literal('soft'), Type.Literal('hard')])),
  /** http: the expected status (default: any 2xx). */
  expectStatus: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  /** http: the body must contain this text. */
  expectBody: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  /** postgres: the query to run (default `select 1`). */
  query: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
});
export type ProbeConfig = Static<typeof ProbeConfig>;

/**
 * What the canary asks of the gate. The canary service (its own issue) publishes these on its
 * probe/heartbeat aggregates; the gate consumes them and acts with the event as cause.
 */
export const CanaryKillSwitchRequested = defineMessage({
  type: 'canary.KillSwitchRequested',
  version: 1,
  kind: 'event',
  producer: 'canary',
  consumers: ['gate', 'projector'],
  subject: 'bifrost.evt.canary.probe.{probeName}',
  description:
    'A probe with action kill_switch reached its failure threshold: the gate engages the kill switch.',
  data: Type.Object(
    {
      probeName: Type.String({ minLength: 1, maxLength: 100 }),
      /** Absent: the global kill switch. */
      engineId: Type.Optional(EntityId),
      mode: Type.Union([Type.Literal('soft'), Type.Literal('hard')]),
      reason: Type.String({ maxLength: 500 }),
      consecutiveFailures: Type.Integer({ minimum: 1 }),
    },
    { additionalProperties: false },
  ),
});

export const CanaryEnginePauseRequested = defineMessage({
  type: 'canary.EnginePauseRequested',
  version: 1,
  kind: 'event',
  producer: 'canary',
  consumers: ['gate', 'projector'],
  subject: 'bifrost.evt.canary.engine.{engineId}',
  description:
    'An engine went silent past its allowed heartbeat gap (dead-man switch), or a pause_engine probe failed.',
  data: Type.Object(
    {
      engineId: EntityId,
      reason: Type.String({ maxLength: 500 }),
      /** The pause_engine probe that asked for the pause; absent when the dead-man switch did. */
      probeName: Type.Optional(ProbeName),
    },
    { additionalProperties: false },
  ),
});

const canaryEvent = <T extends string, D extends TSchema>(
  type: T,
  subject: string,
  description: string,
  data: D,
  consumers: string[] = ['canary (state rebuild)', 'projector'],
) =>
  defineMessage({
    type: `canary.${type}` as const,
    version: 1,
    kind: 'event',
    producer: 'canary',
    consumers,
    subject,
    description,
    data,
  });

const PROBE = 'bifrost.evt.canary.probe.{probeName}';
const ENGINE = 'bifrost.evt.canary.engine.{engineId}';
/** Alerts live on the aggregate they are about: a probe or an engine. */
const ALERT = 'bifrost.evt.canary.{aggregateType}.{aggregateId}';

export const AlertView = object({
  alertId: Type.String({ minLength: 1, maxLength: 200 }),
  action: literals(PROBE_ACTIONS),
  reason: Detail,
  raisedAt: Timestamp,
  resolvedAt: Type.Union([Type.Null(), Timestamp]),
  acknowledged: Type.Union([Type.Null(), object({ actor: Actor, reason: Reason, at: Timestamp })]),
});
export type AlertView = Static<typeof AlertView>;

// ── Probe aggregate: `bifrost.evt.canary.probe.<probeName>` ─────────────────────────────────────

export const CanaryProbeDefined = canaryEvent(
  'ProbeDefined',
  PROBE,
  'A probe was created (default probes on first start, or an operator) or its settings changed.',
  object({
    probeName: ProbeName,
    probe: ProbeConfig,
    previous: Type.Union([Type.Null(), ProbeConfig]),
    actor: Actor,
    reason: Reason,
    at: Timestamp,
  }),
);
export const CanaryProbeRemoved = canaryEvent(
  'ProbeRemoved',
  PROBE,
  'An operator removed a probe: it is no longer run. Kill switches and pauses it caused stay until an operator lifts them.',
  object({ probeName: ProbeName, actor: Actor, reason: Reason, at: Timestamp }),
);
export const CanaryProbeStatusChanged = canaryEvent(
  'ProbeStatusChanged',
  PROBE,
  'A check result that changed the probe status (UNKNOWN → UP, UNKNOWN or UP → DOWN after failureThreshold failures in a row, DOWN → UP after recoveryThreshold passes in a row). Checks that change nothing publish no event.',
  object({
    probeName: ProbeName,
    from: literals(PROBE_STATUSES),
    to: literals(PROBE_STATUSES),
    consecutiveFailures: Type.Integer({ minimum: 0 }),
    consecutivePasses: Type.Integer({ minimum: 0 }),
    /** The last check: what failed (or `ok`), and how long it took. */
    detail: Detail,
    latencyMs: Type.Integer({ minimum: 0 }),
    at: Timestamp,
  }),
  ['canary (state rebuild)', 'gate (go-live fact canaryHealthy)', 'projector'],
);
export const CanaryAlertRaised = canaryEvent(
  'AlertRaised',
  ALERT,
  'A probe went DOWN or an engine went silent: an alert operators acknowledge. Published on the probe or engine aggregate it is about.',
  object({
    alertId: Type.String({ minLength: 1, maxLength: 200 }),
    probeName: Type.Optional(ProbeName),
    engineId: Type.Optional(EntityId),
    action: literals(PROBE_ACTIONS),
    reason: Detail,
    at: Timestamp,
  }),
);
export const CanaryAlertAcknowledged = canaryEvent(
  'AlertAcknowledged',
  ALERT,
  'An operator acknowledged an alert (it stays in the history; acknowledging lifts nothing at the gate).',
  object({
    alertId: Type.String({ minLength: 1, maxLength: 200 }),
    probeName: Type.Optional(ProbeName),
    engineId: Type.Optional(EntityId),
    actor: Actor,
    reason: Reason,
    at: Timestamp,
  }),
);
export const CanaryAlertResolved = canaryEvent(
  'AlertResolved',
  ALERT,
  'An open alert ended without a recovery or a fresh heartbeat: an escalated probe raised the next one, or watching its engine was disabled. (A probe back UP, a removed probe and a fresh heartbeat end their alerts by those events.) Resolving lifts nothing at the gate.',
  object({
    alertId: Type.String({ minLength: 1, maxLength: 200 }),
    probeName: Type.Optional(ProbeName),
    engineId: Type.Optional(EntityId),
    reason: Detail,
    at: Timestamp,
  }),
);

// ── Engine aggregate (dead-man switch): `bifrost.evt.canary.engine.<engineId>` ─────────────────

export const CanaryEngineWatched = canaryEvent(
  'EngineWatched',
  ENGINE,
  "An engine's first heartbeat: from now on it must keep sending them within its allowed gap.",
  object({ engineId: EntityId, firstHeartbeatAt: Timestamp, at: Timestamp }),
);
export const CanaryHeartbeatPolicySet = canaryEvent(
  'HeartbeatPolicySet',
  ENGINE,
  "An operator set an engine's allowed heartbeat gap, auto-resume or watching on/off.",
  object({
    engineId: EntityId,
    /** Null: the service default (CANARY_HEARTBEAT_GAP_MS). */
    allowedGapMs: Type.Union([Type.Null(), Type.Integer({ minimum: 1_000 })]),
    autoResume: Type.Boolean(),
    enabled: Type.Boolean(),
    actor: Actor,
    reason: Reason,
    at: Timestamp,
  }),
);
export const CanaryEngineWentStale = canaryEvent(
  'EngineWentStale',
  ENGINE,
  'An engine was silent for longer than its allowed gap: STALE (the dead-man switch asks the gate to pause it).',
  object({
    engineId: EntityId,
    lastHeartbeatAt: Timestamp,
    allowedGapMs: Type.Integer({ minimum: 1 }),
    silentForMs: Type.Integer({ minimum: 0 }),
    alertId: Type.String({ minLength: 1, maxLength: 200 }),
    at: Timestamp,
  }),
);
export const CanaryEngineHeartbeatRestored = canaryEvent(
  'EngineHeartbeatRestored',
  ENGINE,
  'A STALE engine sent a fresh heartbeat: ALIVE again. The gate pause stays unless auto-resume is on.',
  object({
    engineId: EntityId,
    heartbeatAt: Timestamp,
    staleSince: Timestamp,
    at: Timestamp,
  }),
);
export const CanaryEngineSignedOff = canaryEvent(
  'EngineSignedOff',
  ENGINE,
  'An engine said in its heartbeat that it is stopping on purpose (the SDK does so on close): OFFLINE, its silence is not judged until it sends a heartbeat again.',
  object({ engineId: EntityId, heartbeatAt: Timestamp, at: Timestamp }),
);
export const CanaryEngineSignedOn = canaryEvent(
  'EngineSignedOn',
  ENGINE,
  'An OFFLINE engine sent a heartbeat: ALIVE again, and watched for silence from now on.',
  object({ engineId: EntityId, heartbeatAt: Timestamp, signedOffAt: Timestamp, at: Timestamp }),
);
export const CanaryEngineResumeRequested = canaryEvent(
  'EngineResumeRequested',
  ENGINE,
  "Auto-resume: a fresh heartbeat after a dead-man pause, with auto-resume enabled by an operator. The gate resumes the engine only if the pause in force is the canary's and was caused by the dead-man request this resume names (pauseRequestId), on the authority of that operator.",
  object({
    engineId: EntityId,
    reason: Detail,
    /** The operator who enabled auto-resume for this engine. */
    authorizedBy: Actor,
    authorizedAt: Timestamp,
    /**
     * The id of the dead-man `EnginePauseRequested` this resume answers: the gate lifts the pause
     * only if that request caused it. Absent in resumes of canaries before it: the gate lifts a
     * pause the canary alone holds, whichever of its requests caused it.
     */
    pauseRequestId: Type.Optional(Uuid),
  }),
  ['gate', 'canary (state rebuild)', 'projector'],
);

// ── Periodic summary: `bifrost.evt.canary.summary.<yyyy-mm-dd>` ──────────────────────────────────

export const CanarySummaryReported = canaryEvent(
  'SummaryReported',
  'bifrost.evt.canary.summary.{day}',
  'Every CANARY_SUMMARY_INTERVAL_MS: how many checks ran and failed per probe since the last summary, and every status.',
  object({
    from: Timestamp,
    to: Timestamp,
    probes: Type.Array(
      object({
        probeName: ProbeName,
        status: literals(PROBE_STATUSES),
        checks: Type.Integer({ minimum: 0 }),
        failures: Type.Integer({ minimum: 0 }),
        consecutiveFailures: Type.Integer({ minimum: 0 }),
      }),
    ),
    engines: Type.Array(object({ engineId: EntityId, status: literals(ENGINE_HEALTHS) })),
  }),
  ['gate (go-live fact canaryHealthy)', 'projector'],
);

// ── Ingest: engine heartbeats on `bifrost.ingest.heartbeat.<engineId>` ──────────────────────────

export const HeartbeatReported = defineMessage({
  type: 'ingest.HeartbeatReported',
  version: 1,
  kind: 'ingest',
  producer: 'engines (SDK, api-gateway)',
  consumers: ['canary'],
  subject: 'bifrost.ingest.heartbeat.{engineId}',
  description:
    "An engine is alive (the SDK sends one per interval and on every reconnect). Feeds the canary's dead-man switch.",
  data: object({
    engineId: EntityId,
    /** Free-form status text from the engine (version, mode …). */
    status: Type.Optional(Type.String({ maxLength: 200 })),
    /** Seconds the engine has been running (seed 004's `uptime_s`; the SDK counts from `createClient`). */
    uptimeS: Type.Optional(Type.Integer({ minimum: 0 })),
    /** The engine is stopping on purpose: the canary marks it OFFLINE instead of pausing it when it falls silent. */
    signingOff: Type.Optional(Type.Boolean()),
    /**
     * How often the engine sends heartbeats (the SDK's `heartbeatIntervalMs`): the canary then allows
     * three of these intervals of silence (seed 004), at least its default gap.
     */
    intervalMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
    /**
     * The `policyRevision` of the last gate verdict the engine received (seed 004's
     * `policy_version_hash`): an engine still acting on an old policy shows. Absent before its first verdict.
     */
    policyRevision: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /** How many sessions (positions, conversations, jobs …) the engine has open, when it counts them. */
    activeSessions: Type.Optional(Type.Integer({ minimum: 0 })),
    /**
     * The client that sent it, `@bifrost/sdk@<version>`: Bifrost has no editions (seed 004's
     * `edition`); which SDK an engine runs is what tells an operator it needs an upgrade.
     */
    sdk: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  }),
});

export const canaryMessages = [
  CanaryKillSwitchRequested,
  CanaryEnginePauseRequested,
  CanaryProbeDefined,
  CanaryProbeRemoved,
  CanaryProbeStatusChanged,
  CanaryAlertRaised,
  CanaryAlertAcknowledged,
  CanaryAlertResolved,
  CanaryEngineWatched,
  CanaryHeartbeatPolicySet,
  CanaryEngineWentStale,
  CanaryEngineHeartbeatRestored,
  CanaryEngineSignedOff,
  CanaryEngineSignedOn,
  CanaryEngineResumeRequested,
  CanarySummaryReported,
  HeartbeatReported,
];

// ── Requests and replies: `bifrost.rpc.canary.<operation>` ─────────────────────────────────────

export const ProbeView = object({
  probe: ProbeConfig,
  status: literals(PROBE_STATUSES),
  consecutiveFailures: Type.Integer({ minimum: 0 }),
  consecutivePasses: Type.Integer({ minimum: 0 }),
  lastCheckedAt: Type.Union([Type.Null(), Timestamp]),
  lastDetail: Type.Union([Type.Null(), Detail]),
  statusSince: Type.Union([Type.Null(), Timestamp]),
  updatedAt: Timestamp,
  alert: Type.Union([Type.Null(), AlertView]),
});
export type ProbeView = Static<typeof ProbeView>;

export const EngineHeartbeatView = object({
  engineId: EntityId,
  status: literals(ENGINE_HEALTHS),
  allowedGapMs: Type.Integer({ minimum: 1 }),
  autoResume: Type.Boolean(),
  enabled: Type.Boolean(),
  lastHeartbeatAt: Type.Union([Type.Null(), Timestamp]),
  staleSince: Type.Union([Type.Null(), Timestamp]),
  alert: Type.Union([Type.Null(), AlertView]),
  /**
   * What the engine's newest heartbeat reported (`HeartbeatReported`), `uptimeS` as of
   * `lastHeartbeatAt`; null where it said nothing (an SDK before these fields, an engine without the SDK).
   */
  policyRevision: Type.Union([Type.Null(), Type.String()]),
  sdk: Type.Union([Type.Null(), Type.String()]),
  activeSessions: Type.Union([Type.Null(), Type.Integer({ minimum: 0 })]),
  uptimeS: Type.Union([Type.Null(), Type.Integer({ minimum: 0 })]),
});
export type EngineHeartbeatView = Static<typeof EngineHeartbeatView>;

export const CanaryStatus = object({
  probes: Type.Array(ProbeView),
  engines: Type.Array(EngineHeartbeatView),
});
export type CanaryStatus = Static<typeof CanaryStatus>;

export const UpsertProbeCommand = object({ actor: Actor, reason: CommandReason, probe: ProbeConfig });
export type UpsertProbeCommand = Static<typeof UpsertProbeCommand>;
export const RemoveProbeCommand = object({ actor: Actor, reason: CommandReason, probeName: ProbeName });
export type RemoveProbeCommand = Static<typeof RemoveProbeCommand>;
export const AcknowledgeAlertCommand = object({
  actor: Actor,
  reason: CommandReason,
  alertId: Type.String({ minLength: 1, maxLength: 200 }),
});
export type AcknowledgeAlertCommand = Static<typeof AcknowledgeAlertCommand>;
export const SetHeartbeatPolicyCommand = object({
  actor: Actor,
  reason: CommandReason,
  engineId: EntityId,
  /** Null: back to the service default. Absent: unchanged. */
  allowedGapMs: Type.Optional(
    Type.Union([Type.Null(), Type.Integer({ minimum: 1_000, maximum: 604_800_000 })]),
  ),
  autoResume: Type.Optional(Type.Boolean()),
  enabled: Type.Optional(Type.Boolean()),
});
export type SetHeartbeatPolicyCommand = Static<typeof SetHeartbeatPolicyCommand>;

const canaryRpc = <Req extends TSchema, Res extends TSchema>(
  operation: string,
  request: Req,
  response: Res,
  description: string,
) => defineRpc({ service: 'canary', operation, request, response: okReplyOf(response), description });

export const canaryRpcs = [
  canaryRpc(
    'cmd.upsert-probe',
    UpsertProbeCommand,
    ProbeView,
    'Operator: add a probe or change its settings.',
  ),
  canaryRpc(
    'cmd.remove-probe',
    RemoveProbeCommand,
    object({ probeName: ProbeName, removed: Type.Boolean() }),
    'Operator: remove a probe (it stops running).',
  ),
  canaryRpc(
    'cmd.ack-alert',
    AcknowledgeAlertCommand,
    AlertView,
    'Operator: acknowledge an alert (`probe:<name>:<n>` or `engine:<id>:<n>`).',
  ),
  canaryRpc(
    'cmd.heartbeat-policy',
    SetHeartbeatPolicyCommand,
    EngineHeartbeatView,
    "Operator: an engine's allowed heartbeat gap, auto-resume, or watching on/off.",
  ),
  canaryRpc('status', object({}), CanaryStatus, 'Every probe and watched engine as the canary sees it now.'),
];
