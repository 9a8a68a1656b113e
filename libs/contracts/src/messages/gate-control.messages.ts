import { Type, type Static } from '@sinclair/typebox';

import { Actor, Timestamp } from '../envelope';
import { defineMessage } from '../registry';
import { EngineModeSchema, EntityId } from '../verdict';
import { CommandReason, InputText, literals, object, Reason, idPattern } from '../schema';

/** The one control plane aggregate: `bifrost.evt.gate.control.global`. */
export const CONTROL_PLANE_SUBJECT = 'bifrost.evt.gate.control.global';

/** Facts other services report; go-live can be enabled only while every item has passed. */
export const GO_LIVE_CHECKLIST_ITEMS = [
  'riskPoliciesPresent',
  'canaryHealthy',
  'auditChainVerified',
] as const;
export type GoLiveChecklistItem = (typeof GO_LIVE_CHECKLIST_ITEMS)[number];
export const GoLiveChecklistItemSchema = literals(GO_LIVE_CHECKLIST_ITEMS);

/** Where an action kind may run: not at all, in a sandbox, or in production (only while go-live is on). */
export const EXECUTION_CLASSES = ['OBSERVE_ONLY', 'SANDBOX_EXEC', 'PROD_EXEC'] as const;
export type ExecutionClass = (typeof EXECUTION_CLASSES)[number];
export const ExecutionClassSchema = literals(EXECUTION_CLASSES);

/** `soft` lets reduce-only actions (`reduce`, `close`) through; `hard` stops everything. */
export const KILL_SWITCH_MODES = ['soft', 'hard'] as const;
export type KillSwitchMode = (typeof KILL_SWITCH_MODES)[number];
export const KillSwitchModeSchema = literals(KILL_SWITCH_MODES);

/** Same pattern as `GateAction.kind`. */
const ActionKind = Type.String({ pattern: idPattern('^[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)*$'), maxLength: 100 });
/** What caused an automated command, e.g. the id of the tripwire or canary event that asked for it. */
const Cause = Type.String({ minLength: 1, maxLength: 200 });
/** Governance-agent phase names (DESIGN §2: L3 → L3+ → L4 → L4+ → L5). */
const AutonomyPhase = Type.String({ pattern: '^L[0-9]\\+?$', examples: ['L3+'] });
const CommandType = Type.String({ minLength: 1, maxLength: 100 });
const Evidence = Type.String({ maxLength: 2000 });

// Commands. `now` is not part of them: the service stamps the time it handles a command.

export const RecordChecklistFactCommand = object({
  actor: Actor,
  item: GoLiveChecklistItemSchema,
  passed: Type.Boolean(),
  /** The service that established the fact, e.g. `risk-guard`, `canary`, `projector`. */
  reportedBy: Type.String({ minLength: 1, maxLength: 100 }),
  // When given, some text (events keep Evidence, so stored ones validate).
  evidence: Type.Optional(InputText(2000)),
});
export type RecordChecklistFactCommand = Static<typeof RecordChecklistFactCommand>;

export const EnableGoLiveCommand = object({ actor: Actor, reason: CommandReason });
export type EnableGoLiveCommand = Static<typeof EnableGoLiveCommand>;

export const DisableGoLiveCommand = object({ actor: Actor, reason: CommandReason });
export type DisableGoLiveCommand = Static<typeof DisableGoLiveCommand>;

/** Without `engineId` the switch is global. */
export const EngageKillSwitchCommand = object({
  actor: Actor,
  engineId: Type.Optional(EntityId),
  mode: KillSwitchModeSchema,
  reason: CommandReason,
  cause: Type.Optional(Cause),
  /**
   * The caller may not loosen (the gateway sets it for roles below admin): a soft engage where a
   * hard switch is on is refused with `GATE.SOFTENING_FORBIDDEN`, as softening is a partial release.
   */
  mayNotLoosen: Type.Optional(Type.Boolean()),
});
export type EngageKillSwitchCommand = Static<typeof EngageKillSwitchCommand>;

/** Operators only: automation may engage a kill switch but never release one. */
export const ReleaseKillSwitchCommand = object({
  actor: Actor,
  engineId: Type.Optional(EntityId),
  reason: CommandReason,
});
export type ReleaseKillSwitchCommand = Static<typeof ReleaseKillSwitchCommand>;

export const SetExecutionClassCommand = object({
  actor: Actor,
  actionKind: ActionKind,
  executionClass: ExecutionClassSchema,
  reason: CommandReason,
});
export type SetExecutionClassCommand = Static<typeof SetExecutionClassCommand>;

export const SetEngineModeCommand = object({
  actor: Actor,
  engineId: EntityId,
  mode: EngineModeSchema,
  reason: CommandReason,
});
export type SetEngineModeCommand = Static<typeof SetEngineModeCommand>;

export const PauseEngineCommand = object({
  actor: Actor,
  engineId: EntityId,
  reason: CommandReason,
  cause: Type.Optional(Cause),
  /** The pause lifts by itself at this time; without it only an operator resumes the engine. */
  cooldownUntil: Type.Optional(Timestamp),
});
export type PauseEngineCommand = Static<typeof PauseEngineCommand>;

export const ResumeEngineCommand = object({ actor: Actor, engineId: EntityId, reason: CommandReason });
export type ResumeEngineCommand = Static<typeof ResumeEngineCommand>;

/** The gate turns governance-agent phase events into this command. */
export const ApplyAutonomyPhaseCommand = object({
  actor: Actor,
  engineId: EntityId,
  phase: AutonomyPhase,
  /** Command types the engine may run without approval at this phase (the full, flattened list). */
  whitelist: Type.Array(CommandType, { maxItems: 500 }),
  cause: Cause,
});
export type ApplyAutonomyPhaseCommand = Static<typeof ApplyAutonomyPhaseCommand>;

// Events, all on the control plane subject.

const controlEvent = <S extends ReturnType<typeof object>>(
  name: string,
  description: string,
  data: S,
  consumers: readonly string[] = ['gate', 'projector'],
) =>
  defineMessage({
    type: `gate.${name}`,
    version: 1,
    kind: 'event',
    producer: 'gate',
    consumers,
    subject: CONTROL_PLANE_SUBJECT,
    description,
    data,
  });

export const GateChecklistFactRecorded = controlEvent(
  'ChecklistFactRecorded',
  'A service reported whether one go-live checklist item passes (latest report per item wins).',
  object({
    actor: Actor,
    item: GoLiveChecklistItemSchema,
    passed: Type.Boolean(),
    reportedBy: Type.String({ minLength: 1, maxLength: 100 }),
    evidence: Type.Optional(Evidence),
    recordedAt: Timestamp,
  }),
);

export const GateGoLiveEnabled = controlEvent(
  'GoLiveEnabled',
  'An operator enabled production execution; every checklist item had passed.',
  object({ actor: Actor, reason: Reason, enabledAt: Timestamp }),
);

export const GateGoLiveDisabled = controlEvent(
  'GoLiveDisabled',
  'Production execution was disabled: PROD_EXEC action kinds are blocked from now on.',
  object({ actor: Actor, reason: Reason, disabledAt: Timestamp }),
);

export const GateGoLiveRefused = controlEvent(
  'GoLiveRefused',
  'Enabling go-live was refused because checklist items had not passed (unknown counts as not passed).',
  object({
    actor: Actor,
    reason: Reason,
    failingItems: Type.Array(GoLiveChecklistItemSchema, { minItems: 1 }),
    refusedAt: Timestamp,
  }),
);

export const GateKillSwitchEngaged = controlEvent(
  'KillSwitchEngaged',
  'A kill switch was engaged (global when engineId is absent) or made stricter.',
  object({
    actor: Actor,
    engineId: Type.Optional(EntityId),
    mode: KillSwitchModeSchema,
    reason: Reason,
    cause: Type.Optional(Cause),
    engagedAt: Timestamp,
  }),
);

export const GateKillSwitchReleased = controlEvent(
  'KillSwitchReleased',
  'An operator released a kill switch (global when engineId is absent).',
  object({ actor: Actor, engineId: Type.Optional(EntityId), reason: Reason, releasedAt: Timestamp }),
);

export const GateExecutionClassSet = controlEvent(
  'ExecutionClassSet',
  'An operator set where an action kind may execute (unset kinds are OBSERVE_ONLY).',
  object({
    actor: Actor,
    actionKind: ActionKind,
    executionClass: ExecutionClassSchema,
    reason: Reason,
    setAt: Timestamp,
  }),
);

export const GateEngineModeSet = controlEvent(
  'EngineModeSet',
  "An operator changed how the gate's verdicts apply to one engine (enforce | observe | off).",
  object({ actor: Actor, engineId: EntityId, mode: EngineModeSchema, reason: Reason, setAt: Timestamp }),
);

export const GateEnginePaused = controlEvent(
  'EnginePaused',
  'An engine was paused (or its pause extended) until an operator resumes it or the cooldown passes.',
  object({
    actor: Actor,
    engineId: EntityId,
    reason: Reason,
    cause: Type.Optional(Cause),
    cooldownUntil: Type.Optional(Timestamp),
    pausedAt: Timestamp,
    requestedAt: Type.Optional(
      Type.Union([Timestamp], {
        description:
          "when automation asked for the pause (the canary's event time), which the gate may apply later; absent for an operator's pause",
      }),
    ),
  }),
);

export const GateEngineResumed = controlEvent(
  'EngineResumed',
  "An operator lifted an engine's pause.",
  object({
    actor: Actor,
    engineId: EntityId,
    reason: Reason,
    resumedAt: Timestamp,
    requestedAt: Type.Optional(
      Type.Union([Timestamp], {
        description:
          'for an automatic resume (the canary on the authority of the operator who enabled it): when the canary asked for it',
      }),
    ),
  }),
);

export const GateAutonomyPhaseApplied = controlEvent(
  'AutonomyPhaseApplied',
  "The gate adopted an engine's autonomy phase and command whitelist from the governance agent.",
  object({
    actor: Actor,
    engineId: EntityId,
    phase: AutonomyPhase,
    whitelist: Type.Array(CommandType, { maxItems: 500 }),
    cause: Cause,
    appliedAt: Timestamp,
  }),
);

export const gateControlMessages = [
  GateChecklistFactRecorded,
  GateGoLiveEnabled,
  GateGoLiveDisabled,
  GateGoLiveRefused,
  GateKillSwitchEngaged,
  GateKillSwitchReleased,
  GateExecutionClassSet,
  GateEngineModeSet,
  GateEnginePaused,
  GateEngineResumed,
  GateAutonomyPhaseApplied,
];
