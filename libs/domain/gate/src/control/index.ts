export type { ControlCommand, ControlEvent } from './control-plane.events';
export {
  CONTROL_PLANE_AGGREGATE,
  DEFAULT_ENGINE_MODE,
  DEFAULT_EXECUTION_CLASS,
  activePause,
  autonomyOf,
  effectiveKillSwitch,
  engineModeOf,
  executionClassOf,
  failingChecklistItems,
  initialControlState,
  isPauseInForce,
  policySnapshot,
  type AutonomyGrant,
  type ChecklistFact,
  type ControlPolicySnapshot,
  type ControlState,
  type EffectiveKillSwitch,
  type EnginePause,
  type GoLive,
  type KillSwitch,
} from './control-plane.state';
export { controlPlane } from './control-plane.decider';
export {
  autonomyPhaseCheck,
  controlChecks,
  enginePauseCheck,
  executionClassCheck,
  goLiveChecklistCheck,
  isReduceOnly,
  killSwitchCheck,
} from './control-plane.checks';
