import { Type, type Static, type TSchema } from '@sinclair/typebox';

import { Actor, Timestamp } from '../envelope';
import { CommandReply, okReplyOf } from '../errors';
import { defineMessage, defineRpc } from '../registry';
import { EntityId } from '../verdict';
import { COMMAND_OUTCOMES, CommandType, INCIDENT_SEVERITIES } from './governance-ingest.messages';
import { CommandReason, InputText, literals, object, Reason, idPattern } from '../schema';

export const AUTONOMY_PHASES = ['L3', 'L3+', 'L4', 'L4+', 'L5'] as const;
export type AutonomyPhase = (typeof AUTONOMY_PHASES)[number];

/** Who must sign an expansion proposal (seed 003: Tech Lead, Ops Lead, Product Lead, Exec Sponsor). */
export const APPROVER_ROLES = ['tech_lead', 'ops_lead', 'product_lead', 'exec_sponsor'] as const;
export type ApproverRole = (typeof APPROVER_ROLES)[number];

/**
 * A circuit breaker's window: whole minutes from 1 to 60 (`1m` … `60m`; seed 003's rules use 1, 5
 * and 15, its "adding a rule" example 10).
 */
export const BreakerWindow = Type.String({
  pattern: '^([1-9]|[1-5][0-9]|60)m$',
  description: 'whole minutes, 1m to 60m',
  examples: ['5m', '10m'],
});
export const BREAKER_ACTIONS = ['revert_to_l3', 'pause_command_type', 'alert_only'] as const;
export type BreakerAction = (typeof BREAKER_ACTIONS)[number];

/** Why an engine's phase (or its effective whitelist) changed. */
export const PHASE_CHANGE_CAUSES = ['initial', 'proposal', 'breaker', 'pause', 'resume', 'ladder'] as const;

export const READINESS_STATUSES = ['READY', 'ALMOST_READY', 'NEEDS_WORK'] as const;
export const RISK_ASSESSMENT_LEVELS = ['low', 'medium', 'high'] as const;

export const Phase = literals(AUTONOMY_PHASES);
export const ApproverRole = literals(APPROVER_ROLES);
const Text = Type.String({ maxLength: 2000 });
const Count = Type.Integer({ minimum: 0 });
const Rate = Type.Number({ minimum: 0, maximum: 1 });
/** Most command types a whitelist holds: a phase's whole whitelist, its own additions and all below. */
export const MAX_WHITELIST_ITEMS = 500;
/** Command types the engine may run on its own: each one the agent can record, breakers can pause. */
const Whitelist = Type.Array(CommandType, { maxItems: MAX_WHITELIST_ITEMS });
/** Ids the agent makes up (proposals, reports, breaker events) and principal ids. */
export const GovernanceId = Type.String({ pattern: idPattern('^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,199}$') });
/** Readiness checklist item ids, e.g. `success-rate`, `runbooks`. */
export const ChecklistItemId = Type.String({ pattern: idPattern('^[a-z][a-z0-9_-]{0,63}$') });
/** Breaker rule ids: lower-case, e.g. `high-error-rate`. */
export const BreakerRuleId = Type.String({ pattern: idPattern('^[a-z][a-z0-9_-]{0,63}$') });

/** One rung of an engine's phase ladder; the whitelist is cumulative (this rung's additions plus every rung below). */
export const PhaseRung = object({
  phase: Phase,
  /** Command types this phase adds to the whitelist of the phase below. */
  additions: Whitelist,
  /** Days the new phase is monitored before the next expansion may be proposed (null for the baseline). */
  validationDays: Type.Union([Type.Null(), Type.Integer({ minimum: 0, maximum: 3650 })]),
  /** Minimum days at this phase before a proposal to leave it (seed: 180 for the initial expansion). */
  stabilizationDays: Type.Integer({ minimum: 0, maximum: 3650 }),
  /** Roles whose distinct holders must approve entering this phase. */
  requiredApprovals: Type.Array(ApproverRole, { maxItems: 10 }),
});
export type PhaseRung = Static<typeof PhaseRung>;
/** The ladder L3 → L5, in order (always all five phases). */
export const PhaseLadder = Type.Array(PhaseRung, { minItems: 5, maxItems: 5 });
export type PhaseLadder = Static<typeof PhaseLadder>;

export const BreakerRuleSchema = object({
  ruleId: BreakerRuleId,
  name: Type.String({ minLength: 1, maxLength: 100 }),
  /** `<metric> <op> <literal>` (e.g. `errorRate > 0.05`, `severity == critical`); see docs/governance.md. */
  condition: Type.String({ minLength: 1, maxLength: 300 }),
  window: BreakerWindow,
  action: literals(BREAKER_ACTIONS),
  /** Only this command type's records count; absent: every command type (pause acts per type). */
  commandType: Type.Optional(CommandType),
  enabled: Type.Boolean(),
});
export type BreakerRuleSchema = Static<typeof BreakerRuleSchema>;

export const CommandRecordSchema = object({
  commandId: Type.String({ minLength: 1, maxLength: 200 }),
  commandType: CommandType,
  at: Timestamp,
  outcome: literals(COMMAND_OUTCOMES),
  requiredApproval: Type.Boolean(),
  approved: Type.Optional(Type.Boolean()),
  durationMs: Type.Optional(Type.Integer({ minimum: 0 })),
});
export const IncidentRecordSchema = object({
  incidentId: Type.String({ minLength: 1, maxLength: 200 }),
  at: Timestamp,
  severity: literals(INCIDENT_SEVERITIES),
  commandType: Type.Optional(CommandType),
  summary: Type.String({ minLength: 1, maxLength: 500 }),
});
export const AttestationSchema = object({
  itemId: ChecklistItemId,
  passed: Type.Boolean(),
  evidence: Type.String({ minLength: 1, maxLength: 2000 }),
  by: Type.String({ minLength: 1, maxLength: 200 }),
  at: Timestamp,
  expiresAt: Type.Optional(Timestamp),
});

export const WindowMetricsSchema = object({
  window: Type.String(),
  commands: Count,
  successes: Count,
  errors: Count,
  rollbacks: Count,
  failures: Count,
  successRate: Rate,
  errorRate: Rate,
  rollbackRate: Rate,
  approvalsRequired: Count,
  approvalsGranted: Count,
  approvalRate: Rate,
  incidents: Count,
  criticalIncidents: Count,
  maxSeverity: Type.Union([Type.Null(), literals(INCIDENT_SEVERITIES)]),
});

const CategoryScore = object({ score: Count, max: Count });
export const ReadinessReportSchema = object({
  score: Count,
  maxScore: Type.Literal(80),
  byCategory: object({ technical: CategoryScore, process: CategoryScore, organizational: CategoryScore }),
  status: literals(READINESS_STATUSES),
  items: Type.Array(
    object({
      id: ChecklistItemId,
      category: literals(['technical', 'process', 'organizational'] as const),
      points: Count,
      required: Type.Boolean(),
      kind: literals(['metric', 'attestation'] as const),
      passed: Type.Boolean(),
      detail: Text,
    }),
    { maxItems: 100 },
  ),
  blockers: Type.Array(Text, { maxItems: 100 }),
});

/** The seed's five expansion conditions, each met or not, with why. */
export const EXPANSION_CONDITIONS = [
  'readinessScore',
  'requiredItems',
  'noUnresolvedBreakerEvents',
  'noPendingProposal',
  'stabilizationPeriod',
  'nextPhaseExists',
] as const;
export const ExpansionCheck = object({
  condition: literals(EXPANSION_CONDITIONS),
  met: Type.Boolean(),
  detail: Text,
});

export const RiskAssessment = object({
  level: literals(RISK_ASSESSMENT_LEVELS),
  factors: Type.Array(Text, { maxItems: 50 }),
  mitigations: Type.Array(Text, { maxItems: 50 }),
});

export const ProposalSchema = object({
  proposalId: GovernanceId,
  fromPhase: Phase,
  targetPhase: Phase,
  /** Command types the target phase adds to the whitelist. */
  whitelistAdditions: Whitelist,
  /** The whitelist in force once approved (cumulative). */
  whitelist: Whitelist,
  validationPeriodDays: Type.Union([Type.Null(), Count]),
  achievements: Type.Array(Text, { maxItems: 50 }),
  riskAssessment: RiskAssessment,
  requiredApprovals: Type.Array(ApproverRole, { maxItems: 10 }),
  /** The cycle report that produced it. */
  reportId: GovernanceId,
  proposedBy: Actor,
  createdAt: Timestamp,
  expiresAt: Timestamp,
});
export type ProposalSchema = Static<typeof ProposalSchema>;

export const CycleReportSchema = object({
  reportId: GovernanceId,
  trigger: literals(['schedule', 'operator'] as const),
  ranAt: Timestamp,
  periodStart: Timestamp,
  periodEnd: Timestamp,
  phase: Phase,
  phaseSince: Timestamp,
  daysAtPhase: Count,
  /** Collect: the last 7 days. */
  metrics: WindowMetricsSchema,
  /** Assess. */
  readiness: ReadinessReportSchema,
  /** Check breakers: open events and those tripped in the period. */
  breakers: object({
    unresolved: Count,
    trippedInPeriod: Count,
    unresolvedEventIds: Type.Array(GovernanceId),
  }),
  /** Decide. */
  decision: object({
    proposed: Type.Boolean(),
    proposalId: Type.Union([Type.Null(), GovernanceId]),
    checks: Type.Array(ExpansionCheck),
    summary: Text,
  }),
});
export type CycleReportSchema = Static<typeof CycleReportSchema>;

export const BreakerEventSchema = object({
  eventId: GovernanceId,
  ruleId: BreakerRuleId,
  ruleName: Type.String({ maxLength: 100 }),
  condition: Type.String({ maxLength: 300 }),
  window: BreakerWindow,
  action: literals(BREAKER_ACTIONS),
  commandType: Type.Optional(CommandType),
  observed: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String(), Type.Null()])),
  explanation: Text,
  trippedAt: Timestamp,
});
export type BreakerEventSchema = Static<typeof BreakerEventSchema>;

// ── Events: `bifrost.evt.governance.engine.<engineId>` ──────────────────────────────────────────

const engineEvent = <T extends string, P extends Parameters<typeof Type.Object>[0]>(
  type: T,
  description: string,
  properties: P,
  consumers: string[] = ['governance-agent (state rebuild)', 'projector'],
) =>
  defineMessage({
    type: `governance.${type}` as const,
    version: 1,
    kind: 'event',
    producer: 'governance-agent',
    consumers,
    subject: 'bifrost.evt.governance.engine.{engineId}',
    description,
    data: object({ engineId: EntityId, ...properties }),
  });

/** The governance agent's phase for an engine; the gate enforces its command whitelist. */
export const GovernancePhaseChanged = engineEvent(
  'PhaseChanged',
  'An engine entered an autonomy phase (approved proposal, breaker revert, or initial phase), or its effective whitelist changed (a command type paused or resumed), with the command types it may run without approval.',
  {
    phase: Phase,
    /** The effective whitelist: the phase's cumulative whitelist minus paused command types. */
    whitelist: Whitelist,
    reason: Type.String({ maxLength: 500 }),
    previousPhase: Type.Optional(Type.Union([Type.Null(), Phase])),
    cause: Type.Optional(literals(PHASE_CHANGE_CAUSES)),
    /** The approved proposal or the breaker event behind the change. */
    causeId: Type.Optional(GovernanceId),
    at: Type.Optional(Timestamp),
  },
  ['gate', 'governance-agent (state rebuild)', 'projector'],
);

export const GovernanceEngineEnrolled = engineEvent(
  'EngineEnrolled',
  'An engine came under governance (operator, or implicitly at L3 on its first command record), with its phase ladder and breaker rules.',
  {
    phase: Phase,
    /** Since when the engine has been at that phase (an operator may backdate an engine governed elsewhere). */
    phaseSince: Timestamp,
    ladder: PhaseLadder,
    rules: Type.Array(BreakerRuleSchema, { maxItems: 50 }),
    actor: Actor,
    reason: Type.Optional(Reason),
    at: Timestamp,
  },
);
export const GovernanceLadderConfigured = engineEvent(
  'LadderConfigured',
  "An operator changed an engine's phase ladder (whitelists, validation periods, required approvals).",
  { ladder: PhaseLadder, previous: PhaseLadder, actor: Actor, reason: Reason, at: Timestamp },
);
export const GovernanceCommandRecorded = engineEvent(
  'CommandRecorded',
  "A command record entered the engine's metrics history (a repeated command id is recorded once). `outsideAutonomy`: the engine ran it without approval although its phase does not whitelist the type (a safety constraint violation).",
  {
    record: CommandRecordSchema,
    ingestId: Type.String({ maxLength: 100 }),
    outsideAutonomy: Type.Optional(Type.Literal(true)),
  },
);
export const GovernanceIncidentRecorded = engineEvent(
  'IncidentRecorded',
  "An incident entered the engine's metrics history (a repeated incident id is recorded once).",
  { record: IncidentRecordSchema, ingestId: Type.String({ maxLength: 100 }) },
);
export const GovernanceAttestationRecorded = engineEvent(
  'AttestationRecorded',
  'An operator attested a readiness checklist item (passed or not) with evidence and an optional expiry.',
  { attestation: AttestationSchema },
);
export const GovernanceBreakerRuleUpdated = engineEvent(
  'BreakerRuleUpdated',
  "An operator created or changed one of the engine's circuit breaker rules.",
  {
    rule: BreakerRuleSchema,
    previous: Type.Union([Type.Null(), BreakerRuleSchema]),
    actor: Actor,
    reason: Reason,
    at: Timestamp,
  },
);
export const GovernanceBreakerTripped = engineEvent(
  'BreakerTripped',
  'A circuit breaker rule tripped: a breaker event opens (until an operator resolves it) and its action follows in the same append (revert to L3, pause the command type, or alert only).',
  { breakerEvent: BreakerEventSchema },
);
export const GovernanceBreakerResolved = engineEvent(
  'BreakerResolved',
  'An operator resolved a breaker event; a command type it paused is resumed.',
  { eventId: GovernanceId, actor: Actor, note: Reason, resolvedAt: Timestamp },
);
export const GovernanceCommandTypePaused = engineEvent(
  'CommandTypePaused',
  'A breaker paused a command type: it leaves the effective whitelist (needs approval again) until its breaker event is resolved.',
  { commandType: CommandType, eventId: GovernanceId, at: Timestamp },
);
export const GovernanceCommandTypeResumed = engineEvent(
  'CommandTypeResumed',
  'A paused command type is back in the effective whitelist (its breaker event was resolved).',
  { commandType: CommandType, eventId: GovernanceId, actor: Actor, at: Timestamp },
);
export const GovernanceCycleCompleted = engineEvent(
  'CycleCompleted',
  'A governance cycle ran for the engine (collect → assess → check breakers → decide → report): the report.',
  { report: CycleReportSchema },
);
export const GovernanceProposalCreated = engineEvent(
  'ProposalCreated',
  'The cycle proposed expanding the engine to the next phase (all expansion conditions held).',
  { proposal: ProposalSchema },
);
export const GovernanceProposalApprovalRecorded = engineEvent(
  'ProposalApprovalRecorded',
  'A principal holding a required role approved a pending proposal; `outstanding` lists the roles still missing.',
  {
    proposalId: GovernanceId,
    approver: Actor,
    role: ApproverRole,
    note: Type.Optional(Reason),
    outstanding: Type.Array(ApproverRole),
    at: Timestamp,
  },
);
export const GovernanceProposalApproved = engineEvent(
  'ProposalApproved',
  'Every required role approved the proposal: the engine enters the target phase (a PhaseChanged follows in the same append).',
  {
    proposalId: GovernanceId,
    targetPhase: Phase,
    approvals: Type.Array(object({ principalId: Type.String({ maxLength: 200 }), role: ApproverRole })),
    at: Timestamp,
  },
);
export const GovernanceProposalRejected = engineEvent(
  'ProposalRejected',
  'A required approver rejected the proposal, or the agent withdrew it (a breaker tripped or the ladder changed; a proposal whose engine left its starting phase is refused at approval instead, GOVERNANCE.PROPOSAL_STALE).',
  { proposalId: GovernanceId, by: Actor, reason: Reason, at: Timestamp },
);
export const GovernanceProposalExpired = engineEvent(
  'ProposalExpired',
  'A pending proposal reached its expiry without every approval.',
  { proposalId: GovernanceId, at: Timestamp },
);

/** `bifrost.evt.governance.approvers.global`: who may sign proposals as which role. */
export const GovernanceApproverRolesAssigned = defineMessage({
  type: 'governance.ApproverRolesAssigned',
  version: 1,
  kind: 'event',
  producer: 'governance-agent',
  consumers: ['governance-agent (state rebuild)', 'projector'],
  subject: 'bifrost.evt.governance.approvers.{directoryId}',
  description:
    'An operator set the approver roles a principal holds (empty: none); proposals need distinct holders of their required roles.',
  data: object({
    principalId: Type.String({ minLength: 1, maxLength: 200 }),
    roles: Type.Array(ApproverRole, { maxItems: 4 }),
    previous: Type.Array(ApproverRole, { maxItems: 4 }),
    actor: Actor,
    reason: Reason,
    at: Timestamp,
  }),
});

export const governanceMessages = [
  GovernancePhaseChanged,
  GovernanceEngineEnrolled,
  GovernanceLadderConfigured,
  GovernanceCommandRecorded,
  GovernanceIncidentRecorded,
  GovernanceAttestationRecorded,
  GovernanceBreakerRuleUpdated,
  GovernanceBreakerTripped,
  GovernanceBreakerResolved,
  GovernanceCommandTypePaused,
  GovernanceCommandTypeResumed,
  GovernanceCycleCompleted,
  GovernanceProposalCreated,
  GovernanceProposalApprovalRecorded,
  GovernanceProposalApproved,
  GovernanceProposalRejected,
  GovernanceProposalExpired,
  GovernanceApproverRolesAssigned,
];

// ── Requests and replies: `bifrost.rpc.governance.<operation>` ──────────────────────────────────

export const EnrollEngineCommand = object({
  actor: Actor,
  reason: CommandReason,
  engineId: EntityId,
  /** L3 when absent. */
  phase: Type.Optional(Phase),
  /** Since when the engine has been at that phase (≤ now); now when absent. */
  phaseSince: Type.Optional(Timestamp),
  /** The seed's ladder when absent. */
  ladder: Type.Optional(PhaseLadder),
});
export type EnrollEngineCommand = Static<typeof EnrollEngineCommand>;

export const ConfigureLadderCommand = object({
  actor: Actor,
  reason: CommandReason,
  engineId: EntityId,
  ladder: PhaseLadder,
  /**
   * false: a ladder that whitelists, at the engine's current phase, a command type its current ladder
   * does not is refused (`GOVERNANCE.LADDER_WIDENS`): it would grant autonomy at once, without a
   * promotion's evidence and approvals. The API gateway sends true only for the owner role.
   * Absent: allowed.
   */
  allowWidening: Type.Optional(Type.Boolean()),
});
export type ConfigureLadderCommand = Static<typeof ConfigureLadderCommand>;

export const RecordAttestationCommand = object({
  actor: Actor,
  engineId: EntityId,
  itemId: ChecklistItemId,
  passed: Type.Boolean(),
  /** Input text, as a command's reason (events keep the old rule: stored ones validate). */
  evidence: InputText(2000),
  expiresAt: Type.Optional(Timestamp),
});
export type RecordAttestationCommand = Static<typeof RecordAttestationCommand>;

export const UpdateBreakerRuleCommand = object({
  actor: Actor,
  reason: CommandReason,
  engineId: EntityId,
  ruleId: BreakerRuleId,
  /** Required for a new rule; for an existing rule absent fields keep their value. */
  name: Type.Optional(InputText(100)),
  condition: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
  window: Type.Optional(BreakerWindow),
  action: Type.Optional(literals(BREAKER_ACTIONS)),
  commandType: Type.Optional(Type.Union([Type.Null(), CommandType])),
  enabled: Type.Optional(Type.Boolean()),
});
export type UpdateBreakerRuleCommand = Static<typeof UpdateBreakerRuleCommand>;

export const ResolveBreakerEventCommand = object({
  actor: Actor,
  engineId: EntityId,
  eventId: GovernanceId,
  note: CommandReason,
});
export type ResolveBreakerEventCommand = Static<typeof ResolveBreakerEventCommand>;

export const RunCycleCommand = object({
  actor: Actor,
  /** Every enrolled engine when absent. */
  engineId: Type.Optional(EntityId),
});
export type RunCycleCommand = Static<typeof RunCycleCommand>;

export const ApproveProposalCommand = object({
  actor: Actor,
  engineId: EntityId,
  proposalId: GovernanceId,
  /** The role signed as; the first outstanding role the approver holds when absent. */
  role: Type.Optional(ApproverRole),
  note: Type.Optional(CommandReason),
});
export type ApproveProposalCommand = Static<typeof ApproveProposalCommand>;

export const RejectProposalCommand = object({
  actor: Actor,
  engineId: EntityId,
  proposalId: GovernanceId,
  reason: CommandReason,
});
export type RejectProposalCommand = Static<typeof RejectProposalCommand>;

/** Whom approver roles are given to: an API key id, kept as a key of the approvers directory. */
export const PrincipalId = Type.String({ minLength: 1, maxLength: 200, pattern: idPattern('^[\\s\\S]+$') });

export const AssignApproverRolesCommand = object({
  actor: Actor,
  reason: CommandReason,
  principalId: PrincipalId,
  roles: Type.Array(ApproverRole, { maxItems: 4, uniqueItems: true }),
});
export type AssignApproverRolesCommand = Static<typeof AssignApproverRolesCommand>;

export const BreakerEventView = Type.Composite(
  [
    BreakerEventSchema,
    object({
      resolved: Type.Union([Type.Null(), object({ by: Actor, note: Type.String(), at: Timestamp })]),
    }),
  ],
  { additionalProperties: false },
);

export const ProposalView = Type.Composite(
  [
    ProposalSchema,
    object({
      status: literals(['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED'] as const),
      approvals: Type.Array(object({ principalId: Type.String(), role: ApproverRole, at: Timestamp })),
      outstanding: Type.Array(ApproverRole),
      closedAt: Type.Union([Type.Null(), Timestamp]),
    }),
  ],
  { additionalProperties: false },
);
export type ProposalView = Static<typeof ProposalView>;

/** One engine's governance state as the agent holds it. */
export const GovernanceStateView = object({
  engineId: EntityId,
  phase: Phase,
  phaseSince: Timestamp,
  daysAtPhase: Count,
  /** Effective whitelist (phase whitelist minus paused command types), as sent to the gate. */
  whitelist: Whitelist,
  pausedCommandTypes: Type.Array(CommandType),
  ladder: PhaseLadder,
  rules: Type.Array(BreakerRuleSchema),
  attestations: Type.Array(AttestationSchema),
  unresolvedBreakerEvents: Type.Array(BreakerEventView),
  pendingProposal: Type.Union([Type.Null(), ProposalView]),
  lastCycle: Type.Union([Type.Null(), object({ reportId: GovernanceId, ranAt: Timestamp })]),
  nextScheduledCycle: Type.Union([Type.Null(), Timestamp]),
});
export type GovernanceStateView = Static<typeof GovernanceStateView>;

/** The windows governance metrics are read over (a breaker rule's window is any whole minutes 1m–60m). */
export const METRIC_WINDOWS = ['1m', '5m', '15m', '1h', '24h', '7d', '30d'] as const;
export type MetricWindow = (typeof METRIC_WINDOWS)[number];

export const GovernanceEngineQuery = object({ engineId: EntityId });
export const GovernanceMetricsQuery = object({
  engineId: EntityId,
  window: Type.Optional(literals(METRIC_WINDOWS)),
  commandType: Type.Optional(CommandType),
});
export const BreakerEventsQuery = object({
  engineId: EntityId,
  unresolvedOnly: Type.Optional(Type.Boolean()),
});
export const ProposalsQuery = object({ engineId: EntityId, pendingOnly: Type.Optional(Type.Boolean()) });

const governanceRpc = <Req extends TSchema, Res extends TSchema>(
  operation: string,
  request: Req,
  response: Res,
  description: string,
) => defineRpc({ service: 'governance', operation, request, response: okReplyOf(response), description });

export const governanceRpcs = [
  governanceRpc(
    'cmd.enroll',
    EnrollEngineCommand,
    CommandReply,
    'Operator: bring an engine under governance at an initial phase (default L3), optionally with its own ladder.',
  ),
  governanceRpc(
    'cmd.configure-ladder',
    ConfigureLadderCommand,
    CommandReply,
    "Operator: change an engine's phase ladder (whitelists, validation periods, required approvals).",
  ),
  governanceRpc(
    'cmd.attest',
    RecordAttestationCommand,
    CommandReply,
    'Operator: attest a readiness checklist item (attestation items only) with evidence and optional expiry.',
  ),
  governanceRpc(
    'cmd.update-rule',
    UpdateBreakerRuleCommand,
    CommandReply,
    "Operator: create or change one of an engine's circuit breaker rules (condition parsed, never evaluated as code).",
  ),
  governanceRpc(
    'cmd.resolve-breaker-event',
    ResolveBreakerEventCommand,
    CommandReply,
    'Operator: resolve an open breaker event (resumes a command type it paused; a revert to L3 stays).',
  ),
  governanceRpc(
    'cmd.run-cycle',
    RunCycleCommand,
    object({ reports: Type.Array(CycleReportSchema), proposals: Type.Array(ProposalSchema) }),
    'Run the governance cycle now for one engine or every enrolled engine.',
  ),
  governanceRpc(
    'cmd.approve-proposal',
    ApproveProposalCommand,
    CommandReply,
    'Approver: sign a pending proposal as one of its required roles (distinct principals, no self-approval).',
  ),
  governanceRpc(
    'cmd.reject-proposal',
    RejectProposalCommand,
    CommandReply,
    'Approver: reject a pending proposal (any holder of one of its required roles).',
  ),
  governanceRpc(
    'cmd.assign-approver-roles',
    AssignApproverRolesCommand,
    CommandReply,
    'Admin: set the approver roles a principal holds.',
  ),
  governanceRpc(
    'state',
    GovernanceEngineQuery,
    GovernanceStateView,
    "One engine's phase, whitelist, rules, attestations, open breaker events and pending proposal.",
  ),
  governanceRpc(
    'engines',
    object({}),
    object({ engines: Type.Array(object({ engineId: EntityId, phase: Phase, phaseSince: Timestamp })) }),
    'Every enrolled engine and its phase.',
  ),
  governanceRpc(
    'metrics',
    GovernanceMetricsQuery,
    WindowMetricsSchema,
    'Command and incident metrics of an engine over a window (default 7d), from its bounded history.',
  ),
  governanceRpc(
    'readiness',
    GovernanceEngineQuery,
    ReadinessReportSchema,
    'Run the 80-point readiness assessment for an engine now.',
  ),
  governanceRpc(
    'breaker-events',
    BreakerEventsQuery,
    object({ events: Type.Array(BreakerEventView) }),
    "An engine's breaker events, newest first.",
  ),
  governanceRpc(
    'proposals',
    ProposalsQuery,
    object({ proposals: Type.Array(ProposalView) }),
    "An engine's proposals, newest first.",
  ),
  governanceRpc(
    'approvers',
    object({}),
    object({
      approvers: Type.Array(object({ principalId: Type.String(), roles: Type.Array(ApproverRole) })),
    }),
    'Principals and the approver roles they hold.',
  ),
];
