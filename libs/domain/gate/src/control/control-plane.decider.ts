import { own } from '../own';
import type { Actor } from '@bifrost/contracts';
import { ForbiddenError, IllegalStateError, ValidationError, type Decider } from '@bifrost/event-sourcing';
import type { ControlCommand, ControlEvent } from './control-plane.events';
import {
  activePause,
  engineModeOf,
  failingChecklistItems,
  heldByOperator,
  initialControlState,
  lastReleaseOf,
  lastResumeOf,
  DEFAULT_ENGINE_MODE,
  type ControlState,
  type KillSwitch,
} from './control-plane.state';

type CommandOf<T extends ControlCommand['type']> = Extract<ControlCommand, { type: T }>['data'];

// Loosening a control (go-live on, releasing a kill switch, resuming, changing policy) is an
// operator's call; automation may only tighten. A refused actor is a wiring bug, not a business
// outcome, so it throws instead of recording a refusal event.
function requireOperator(actor: Actor, what: string): void {
  if (actor.kind !== 'operator')
    throw new IllegalStateError(`${what} requires an operator, not ${actor.kind} "${actor.id}"`, {
      code: 'GATE.OPERATOR_REQUIRED',
    });
}

function refuseEngine(actor: Actor, what: string): void {
  if (actor.kind === 'engine')
    throw new IllegalStateError(`${what} cannot come from engine "${actor.id}"`, {
      code: 'GATE.ENGINE_NOT_ALLOWED',
    });
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

function recordChecklistFact(c: CommandOf<'RecordChecklistFact'>, state: ControlState): ControlEvent[] {
  refuseEngine(c.actor, 'a checklist fact');
  const current = state.checklist[c.item];
  if (
    current &&
    current.passed === c.passed &&
    current.reportedBy === c.reportedBy &&
    current.evidence === c.evidence
  )
    return [];
  return [
    {
      type: 'ChecklistFactRecorded',
      data: {
        actor: c.actor,
        item: c.item,
        passed: c.passed,
        reportedBy: c.reportedBy,
        ...optional('evidence', c.evidence),
        recordedAt: c.now,
      },
    },
  ];
}

function enableGoLive(c: CommandOf<'EnableGoLive'>, state: ControlState): ControlEvent[] {
  requireOperator(c.actor, 'enabling go-live');
  if (state.goLive.enabled) return [];
  const failingItems = failingChecklistItems(state);
  if (failingItems.length > 0)
    return [
      { type: 'GoLiveRefused', data: { actor: c.actor, reason: c.reason, failingItems, refusedAt: c.now } },
    ];
  return [{ type: 'GoLiveEnabled', data: { actor: c.actor, reason: c.reason, enabledAt: c.now } }];
}

function disableGoLive(c: CommandOf<'DisableGoLive'>, state: ControlState): ControlEvent[] {
  if (!state.goLive.enabled) return [];
  return [{ type: 'GoLiveDisabled', data: { actor: c.actor, reason: c.reason, disabledAt: c.now } }];
}

function killSwitchAt(state: ControlState, engineId: string | undefined): KillSwitch | null {
  return engineId === undefined
    ? state.killSwitches.global
    : (own(state.killSwitches.engines, engineId) ?? null);
}

/** A request made at or before the operator's last release/resume of its scope. */
function isStale(requestedAt: string | undefined, clearedAt: string | undefined): boolean {
  return requestedAt !== undefined && clearedAt !== undefined && requestedAt <= clearedAt;
}

function engageKillSwitch(c: CommandOf<'EngageKillSwitch'>, state: ControlState): ControlEvent[] {
  if (isStale(c.requestedAt, lastReleaseOf(state, c.engineId))) return [];
  const current = killSwitchAt(state, c.engineId);
  if (current?.mode === c.mode) return [];
  // hard → soft loosens: only an operator may, automation asking for soft leaves the hard switch on.
  if (current?.mode === 'hard' && c.actor.kind !== 'operator') return [];
  if (current?.mode === 'hard' && c.mayNotLoosen) {
    throw new ForbiddenError('softening a hard kill switch releases part of it: it needs the admin role', {
      code: 'GATE.SOFTENING_FORBIDDEN',
      details: { engineId: c.engineId ?? null, mode: current.mode },
    });
  }
  return [
    {
      type: 'KillSwitchEngaged',
      data: {
        actor: c.actor,
        ...optional('engineId', c.engineId),
        mode: c.mode,
        reason: c.reason,
        ...optional('cause', c.cause),
        engagedAt: c.now,
      },
    },
  ];
}

function releaseKillSwitch(c: CommandOf<'ReleaseKillSwitch'>, state: ControlState): ControlEvent[] {
  requireOperator(c.actor, 'releasing a kill switch');
  if (!killSwitchAt(state, c.engineId)) return [];
  return [
    {
      type: 'KillSwitchReleased',
      data: { actor: c.actor, ...optional('engineId', c.engineId), reason: c.reason, releasedAt: c.now },
    },
  ];
}

function setExecutionClass(c: CommandOf<'SetExecutionClass'>, state: ControlState): ControlEvent[] {
  requireOperator(c.actor, 'setting an execution class');
  if (own(state.executionClasses, c.actionKind) === c.executionClass) return [];
  return [
    {
      type: 'ExecutionClassSet',
      data: {
        actor: c.actor,
        actionKind: c.actionKind,
        executionClass: c.executionClass,
        reason: c.reason,
        setAt: c.now,
      },
    },
  ];
}

function setEngineMode(c: CommandOf<'SetEngineMode'>, state: ControlState): ControlEvent[] {
  requireOperator(c.actor, 'setting an engine mode');
  if (engineModeOf(state, c.engineId) === c.mode) return [];
  return [
    {
      type: 'EngineModeSet',
      data: { actor: c.actor, engineId: c.engineId, mode: c.mode, reason: c.reason, setAt: c.now },
    },
  ];
}

/** The later of two cooldowns, where none (an open-ended pause) is the latest of all. */
function laterCooldown(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return undefined;
  return a > b ? a : b;
}

function pauseEngine(c: CommandOf<'PauseEngine'>, state: ControlState): ControlEvent[] {
  if (c.cooldownUntil !== undefined && c.cooldownUntil <= c.now)
    throw new ValidationError(`cooldownUntil ${c.cooldownUntil} is not after ${c.now}`, {
      code: 'GATE.COOLDOWN_NOT_IN_FUTURE',
    });
  if (isStale(c.requestedAt, lastResumeOf(state, c.engineId))) return [];
  const current = activePause(state, c.engineId, c.now);
  // A second pause may extend the one in force but never shorten it. An operator pausing an
  // engine that automation paused takes the pause over even without extending it, so that the
  // canary's auto-resume no longer lifts it.
  const cooldownUntil = current ? laterCooldown(current.cooldownUntil, c.cooldownUntil) : c.cooldownUntil;
  const takesOver = current !== null && c.actor.kind === 'operator' && !heldByOperator(current);
  if (current && cooldownUntil === current.cooldownUntil && !takesOver) return [];
  return [
    {
      type: 'EnginePaused',
      data: {
        actor: c.actor,
        engineId: c.engineId,
        reason: c.reason,
        ...optional('cause', c.cause),
        ...optional('cooldownUntil', cooldownUntil),
        pausedAt: c.now,
        ...optional('requestedAt', c.requestedAt),
      },
    },
  ];
}

function resumeEngine(c: CommandOf<'ResumeEngine'>, state: ControlState): ControlEvent[] {
  requireOperator(c.actor, 'resuming an engine');
  // A pause whose cooldown has passed is over: there is nothing to resume.
  const pause = activePause(state, c.engineId, c.now);
  if (!pause) return [];
  if (c.onlyPauseOf) {
    const { actor, requestedAt, cause } = c.onlyPauseOf;
    const theirs =
      !heldByOperator(pause) &&
      pause.actor.kind === actor.kind &&
      pause.actor.id === actor.id &&
      // A resume request older than the pause in force (a replayed one) does not lift it; both
      // are compared at the times they were asked, whenever the gate applied them.
      (pause.requestedAt ?? pause.pausedAt) <= requestedAt &&
      // Another request of the same actor (a probe's) caused the pause: it is not this one's.
      (cause === undefined || pause.cause === cause);
    if (!theirs) return [];
  }
  return [
    {
      type: 'EngineResumed',
      data: {
        actor: c.actor,
        engineId: c.engineId,
        reason: c.reason,
        resumedAt: c.now,
        ...optional('requestedAt', c.onlyPauseOf?.requestedAt),
      },
    },
  ];
}

function applyAutonomyPhase(c: CommandOf<'ApplyAutonomyPhase'>, state: ControlState): ControlEvent[] {
  refuseEngine(c.actor, 'an autonomy phase');
  const whitelist = [...new Set(c.whitelist)].sort();
  const current = own(state.autonomy, c.engineId);
  if (
    current &&
    current.phase === c.phase &&
    current.whitelist.length === whitelist.length &&
    current.whitelist.every((command, i) => command === whitelist[i])
  )
    return [];
  return [
    {
      type: 'AutonomyPhaseApplied',
      data: {
        actor: c.actor,
        engineId: c.engineId,
        phase: c.phase,
        whitelist,
        cause: c.cause,
        appliedAt: c.now,
      },
    },
  ];
}

function decide(command: ControlCommand, state: ControlState): ControlEvent[] {
  switch (command.type) {
    case 'RecordChecklistFact':
      return recordChecklistFact(command.data, state);
    case 'EnableGoLive':
      return enableGoLive(command.data, state);
    case 'DisableGoLive':
      return disableGoLive(command.data, state);
    case 'EngageKillSwitch':
      return engageKillSwitch(command.data, state);
    case 'ReleaseKillSwitch':
      return releaseKillSwitch(command.data, state);
    case 'SetExecutionClass':
      return setExecutionClass(command.data, state);
    case 'SetEngineMode':
      return setEngineMode(command.data, state);
    case 'PauseEngine':
      return pauseEngine(command.data, state);
    case 'ResumeEngine':
      return resumeEngine(command.data, state);
    case 'ApplyAutonomyPhase':
      return applyAutonomyPhase(command.data, state);
    default: {
      const unknown: never = command;
      throw new ValidationError(`unknown control command ${(unknown as { type: string }).type}`);
    }
  }
}

function evolve(state: ControlState, event: ControlEvent): ControlState {
  switch (event.type) {
    case 'ChecklistFactRecorded': {
      const { item, passed, reportedBy, evidence, recordedAt } = event.data;
      return {
        ...state,
        checklist: {
          ...state.checklist,
          [item]: { passed, reportedBy, ...optional('evidence', evidence), recordedAt },
        },
      };
    }
    case 'GoLiveEnabled':
      return {
        ...state,
        goLive: {
          enabled: true,
          changedAt: event.data.enabledAt,
          actor: event.data.actor,
          reason: event.data.reason,
        },
      };
    case 'GoLiveDisabled':
      return {
        ...state,
        goLive: {
          enabled: false,
          changedAt: event.data.disabledAt,
          actor: event.data.actor,
          reason: event.data.reason,
        },
      };
    case 'GoLiveRefused':
      return state;
    case 'KillSwitchEngaged': {
      const { engineId, mode, reason, actor, cause, engagedAt } = event.data;
      const killSwitch: KillSwitch = { mode, reason, actor, ...optional('cause', cause), engagedAt };
      return {
        ...state,
        killSwitches:
          engineId === undefined
            ? { ...state.killSwitches, global: killSwitch }
            : { ...state.killSwitches, engines: { ...state.killSwitches.engines, [engineId]: killSwitch } },
      };
    }
    case 'KillSwitchReleased': {
      const { engineId, releasedAt } = event.data;
      const released = state.released ?? {};
      return {
        ...state,
        killSwitches:
          engineId === undefined
            ? { ...state.killSwitches, global: null }
            : { ...state.killSwitches, engines: without(state.killSwitches.engines, engineId) },
        released:
          engineId === undefined
            ? { ...released, global: releasedAt }
            : { ...released, engines: { ...released.engines, [engineId]: releasedAt } },
      };
    }
    case 'ExecutionClassSet':
      return {
        ...state,
        executionClasses: { ...state.executionClasses, [event.data.actionKind]: event.data.executionClass },
      };
    case 'EngineModeSet': {
      const { engineId, mode } = event.data;
      // Only deviations from the default are kept, so that equal policies hash equally.
      return {
        ...state,
        engineModes:
          mode === DEFAULT_ENGINE_MODE
            ? without(state.engineModes, engineId)
            : { ...state.engineModes, [engineId]: mode },
      };
    }
    case 'EnginePaused': {
      const { engineId, reason, actor, cause, cooldownUntil, pausedAt, requestedAt } = event.data;
      // Automation extending an operator's pause in force: the operator still holds it.
      const current = activePause(state, engineId, pausedAt);
      const operatorHolds = actor.kind !== 'operator' && current !== null && heldByOperator(current);
      return {
        ...state,
        pauses: {
          ...state.pauses,
          [engineId]: {
            reason,
            actor,
            ...optional('cause', cause),
            ...optional('cooldownUntil', cooldownUntil),
            pausedAt,
            ...optional('requestedAt', requestedAt),
            ...(operatorHolds ? { heldByOperator: true as const } : {}),
          },
        },
      };
    }
    case 'EngineResumed': {
      const { engineId, resumedAt, requestedAt } = event.data;
      return {
        ...state,
        pauses: without(state.pauses, engineId),
        // An automatic resume counts from when it was asked: a pause the canary asked for after
        // it is not stale, however late the gate applied the resume.
        resumed: { ...state.resumed, [engineId]: requestedAt ?? resumedAt },
      };
    }
    case 'AutonomyPhaseApplied': {
      const { engineId, phase, whitelist, cause, appliedAt } = event.data;
      return {
        ...state,
        autonomy: { ...state.autonomy, [engineId]: { phase, whitelist: [...whitelist], cause, appliedAt } },
      };
    }
    default: {
      // Total: an event type this version does not know (written by a newer one) changes nothing.
      const _unknown: never = event;
      return state;
    }
  }
}

/**
 * The gate's control plane (go-live and its checklist, kill switches, execution classes, engine
 * modes, pauses, autonomy phases): one aggregate on `bifrost.evt.gate.control.global`.
 */
export const controlPlane: Decider<ControlState, ControlCommand, ControlEvent> = {
  stateVersion: 1,
  decide: (command, state) => decide(command, state),
  evolve,
  initialState: initialControlState,
};
