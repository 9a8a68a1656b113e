import { own } from '../own';
import {
  GO_LIVE_CHECKLIST_ITEMS,
  type ActionIntent,
  type Check,
  type GateCheckRequest,
} from '@bifrost/contracts';
import {
  activePause,
  autonomyOf,
  effectiveKillSwitch,
  executionClassOf,
  failingChecklistItems,
  heldByOperator,
  type ControlState,
} from './control-plane.state';

/** Intents that only lower exposure: they pass a soft kill switch and a pause (DESIGN §3). */
export function isReduceOnly(intent: ActionIntent): boolean {
  return intent === 'reduce' || intent === 'close';
}

/**
 * `value` is the action kind's class, `threshold` the highest class allowed to execute right now
 * (PROD_EXEC while go-live is on, SANDBOX_EXEC otherwise).
 */
export function executionClassCheck(state: ControlState, request: GateCheckRequest): Check {
  const kind = request.action.kind;
  const executionClass = executionClassOf(state, kind);
  const threshold = state.goLive.enabled ? 'PROD_EXEC' : 'SANDBOX_EXEC';
  // `...base` goes last: see docs/performance.md, "Object spread".
  const base = { name: 'executionClass', value: executionClass, threshold, distanceToTrip: null };
  switch (executionClass) {
    case 'OBSERVE_ONLY':
      return {
        outcome: 'BLOCK',
        reason: own(state.executionClasses, kind)
          ? `observe only: ${kind} is classified OBSERVE_ONLY`
          : `observe only: ${kind} has no execution class (unclassified kinds are OBSERVE_ONLY)`,
        ...base,
      };
    case 'SANDBOX_EXEC':
      return { outcome: 'ALLOW', reason: `sandbox only: execute ${kind} in the sandbox`, ...base };
    case 'PROD_EXEC':
      return state.goLive.enabled
        ? { outcome: 'ALLOW', reason: 'production execution: go-live is on', ...base }
        : { outcome: 'BLOCK', reason: 'go-live is off: production execution is blocked', ...base };
  }
}

/**
 * Informational: a checklist item that turns false while live does not switch go-live off (that
 * is an operator's call, and canary has its own kill-switch path); it shows here on every
 * production action instead. `value` is the number of items passing, `threshold` all of them.
 */
export function goLiveChecklistCheck(state: ControlState): Check {
  const failing = failingChecklistItems(state);
  return {
    name: 'goLiveChecklist',
    outcome: 'ALLOW',
    value: GO_LIVE_CHECKLIST_ITEMS.length - failing.length,
    threshold: GO_LIVE_CHECKLIST_ITEMS.length,
    distanceToTrip: null,
    reason: failing.length === 0 ? 'all checklist items pass' : `not passing: ${failing.join(', ')}`,
  };
}

/** `value` is the switch in force (off | soft | hard), `threshold` what it lets through. */
export function killSwitchCheck(state: ControlState, request: GateCheckRequest): Check {
  const engaged = effectiveKillSwitch(state, request.engineId);
  if (!engaged)
    return { name: 'killSwitch', outcome: 'ALLOW', value: 'off', threshold: 'all', distanceToTrip: null };
  const { scope, killSwitch } = engaged;
  const where = scope === 'global' ? 'global' : `engine ${request.engineId}`;
  if (killSwitch.mode === 'soft' && isReduceOnly(request.action.intent))
    return {
      name: 'killSwitch',
      outcome: 'ALLOW',
      value: 'soft',
      threshold: 'reduce-only',
      distanceToTrip: null,
      reason: `soft ${where} kill switch: ${request.action.intent} only reduces exposure (${killSwitch.reason})`,
    };
  return {
    name: 'killSwitch',
    outcome: 'KILL',
    value: killSwitch.mode,
    threshold: killSwitch.mode === 'soft' ? 'reduce-only' : 'none',
    distanceToTrip: null,
    reason: `${killSwitch.mode} ${where} kill switch engaged: ${killSwitch.reason}`,
  };
}

/** `value` says whether a pause is in force, `threshold` when it lifts (null: only by an operator). */
export function enginePauseCheck(state: ControlState, request: GateCheckRequest, now: string): Check {
  const pause = activePause(state, request.engineId, now);
  if (!pause) {
    const expired = own(state.pauses, request.engineId);
    return {
      name: 'enginePause',
      outcome: 'ALLOW',
      value: false,
      threshold: expired?.cooldownUntil ?? null,
      distanceToTrip: null,
      ...(expired ? { reason: `pause cooldown passed at ${String(expired.cooldownUntil)}` } : {}),
    };
  }
  const threshold = pause.cooldownUntil ?? null;
  // The canary's own pause may also be lifted by the canary (auto-resume), never an operator's.
  const until = pause.cooldownUntil
    ? ` until ${pause.cooldownUntil}`
    : heldByOperator(pause)
      ? ' until an operator resumes it'
      : ' until resumed';
  return isReduceOnly(request.action.intent)
    ? {
        name: 'enginePause',
        outcome: 'ALLOW',
        value: true,
        threshold,
        distanceToTrip: null,
        reason: `engine paused${until}: ${request.action.intent} only reduces exposure (${pause.reason})`,
      }
    : {
        name: 'enginePause',
        outcome: 'PAUSE',
        value: true,
        threshold,
        distanceToTrip: null,
        reason: `engine paused${until}: ${pause.reason}`,
      };
}

/**
 * Only for command-type actions. `value` says whether the command type is whitelisted,
 * `threshold` names the engine's autonomy phase (null: none known, so nothing is whitelisted).
 */
export function autonomyPhaseCheck(state: ControlState, request: GateCheckRequest): Check | null {
  const commandType = request.action.commandType;
  if (commandType === undefined) return null;
  const grant = autonomyOf(state, request.engineId);
  const whitelisted = grant !== null && grant.whitelist.includes(commandType);
  return {
    name: 'autonomyPhase',
    outcome: whitelisted ? 'ALLOW' : 'REQUIRE_APPROVAL',
    value: whitelisted,
    threshold: grant?.phase ?? null,
    distanceToTrip: null,
    reason: !grant
      ? `no autonomy phase known for engine ${request.engineId}: ${commandType} needs approval`
      : whitelisted
        ? `${commandType} is whitelisted at ${grant.phase}`
        : `${commandType} is not whitelisted at ${grant.phase}`,
  };
}

/**
 * The control plane's contribution to a verdict, in a fixed order: executionClass, goLiveChecklist
 * (PROD_EXEC kinds only), killSwitch, enginePause, autonomyPhase (command-type actions only).
 */
export function controlChecks(state: ControlState, request: GateCheckRequest, now: string): Check[] {
  const checks = [executionClassCheck(state, request)];
  if (executionClassOf(state, request.action.kind) === 'PROD_EXEC') checks.push(goLiveChecklistCheck(state));
  checks.push(killSwitchCheck(state, request), enginePauseCheck(state, request, now));
  const autonomy = autonomyPhaseCheck(state, request);
  if (autonomy) checks.push(autonomy);
  return checks;
}
