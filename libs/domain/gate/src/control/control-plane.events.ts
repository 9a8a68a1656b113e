import type {
  Actor,
  ApplyAutonomyPhaseCommand,
  DataOf,
  DisableGoLiveCommand,
  EnableGoLiveCommand,
  EngageKillSwitchCommand,
  GateAutonomyPhaseApplied,
  GateChecklistFactRecorded,
  GateEngineModeSet,
  GateEnginePaused,
  GateEngineResumed,
  GateExecutionClassSet,
  GateGoLiveDisabled,
  GateGoLiveEnabled,
  GateGoLiveRefused,
  GateKillSwitchEngaged,
  GateKillSwitchReleased,
  PauseEngineCommand,
  RecordChecklistFactCommand,
  ReleaseKillSwitchCommand,
  ResumeEngineCommand,
  SetEngineModeCommand,
  SetExecutionClassCommand,
} from '@bifrost/contracts';

/** Every control plane command carries the time the service handled it (RFC 3339 UTC with ms). */
type Timed<D> = D & { readonly now: string };

/**
 * Automation's requests (tripwire, canary) carry when they were made, the request event's
 * `occurredAt`: a request made before an operator last released that kill switch or resumed that
 * engine is stale and changes nothing (a consumer replaying old requests cannot undo an operator).
 */
type Requested<D> = D & { readonly requestedAt?: string };

/**
 * An automatic resume (the canary's, on the authority of the operator who enabled it) lifts only a
 * pause that `actor` alone holds, that began no later than the resume was requested and, when
 * `cause` is given, that this request caused (the gate holds one pause per engine: the canary's
 * dead-man switch must not lift one a failing probe asked for first).
 */
export interface PauseOwner {
  readonly actor: Actor;
  readonly requestedAt: string;
  readonly cause?: string;
}

/** Commands of the control plane aggregate; their data is the wire schema plus `now`. */
export type ControlCommand =
  | { type: 'RecordChecklistFact'; data: Timed<RecordChecklistFactCommand> }
  | { type: 'EnableGoLive'; data: Timed<EnableGoLiveCommand> }
  | { type: 'DisableGoLive'; data: Timed<DisableGoLiveCommand> }
  | { type: 'EngageKillSwitch'; data: Requested<Timed<EngageKillSwitchCommand>> }
  | { type: 'ReleaseKillSwitch'; data: Timed<ReleaseKillSwitchCommand> }
  | { type: 'SetExecutionClass'; data: Timed<SetExecutionClassCommand> }
  | { type: 'SetEngineMode'; data: Timed<SetEngineModeCommand> }
  | { type: 'PauseEngine'; data: Requested<Timed<PauseEngineCommand>> }
  | { type: 'ResumeEngine'; data: Timed<ResumeEngineCommand> & { readonly onlyPauseOf?: PauseOwner } }
  | { type: 'ApplyAutonomyPhase'; data: Timed<ApplyAutonomyPhaseCommand> };

/** Events of the control plane aggregate (on the wire: `gate.<type>`). */
export type ControlEvent =
  | { type: 'ChecklistFactRecorded'; data: DataOf<typeof GateChecklistFactRecorded> }
  | { type: 'GoLiveEnabled'; data: DataOf<typeof GateGoLiveEnabled> }
  | { type: 'GoLiveDisabled'; data: DataOf<typeof GateGoLiveDisabled> }
  | { type: 'GoLiveRefused'; data: DataOf<typeof GateGoLiveRefused> }
  | { type: 'KillSwitchEngaged'; data: DataOf<typeof GateKillSwitchEngaged> }
  | { type: 'KillSwitchReleased'; data: DataOf<typeof GateKillSwitchReleased> }
  | { type: 'ExecutionClassSet'; data: DataOf<typeof GateExecutionClassSet> }
  | { type: 'EngineModeSet'; data: DataOf<typeof GateEngineModeSet> }
  | { type: 'EnginePaused'; data: DataOf<typeof GateEnginePaused> }
  | { type: 'EngineResumed'; data: DataOf<typeof GateEngineResumed> }
  | { type: 'AutonomyPhaseApplied'; data: DataOf<typeof GateAutonomyPhaseApplied> };
