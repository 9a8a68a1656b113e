import { own } from '../own';
import {
  GO_LIVE_CHECKLIST_ITEMS,
  type Actor,
  type EngineMode,
  type ExecutionClass,
  type GoLiveChecklistItem,
  type KillSwitchMode,
} from '@bifrost/contracts';

/** Action kinds nobody has classified may not execute at all (fail safe). */
export const DEFAULT_EXECUTION_CLASS: ExecutionClass = 'OBSERVE_ONLY';
/** Engines nobody has configured are governed. */
export const DEFAULT_ENGINE_MODE: EngineMode = 'enforce';

/** Where the control plane's events live: `naming.eventSubject('gate', aggregateType, aggregateId)`. */
export const CONTROL_PLANE_AGGREGATE = { aggregateType: 'control', aggregateId: 'global' } as const;

/** The latest report on one go-live checklist item. */
export interface ChecklistFact {
  readonly passed: boolean;
  readonly reportedBy: string;
  readonly evidence?: string;
  readonly recordedAt: string;
}

export interface KillSwitch {
  readonly mode: KillSwitchMode;
  readonly reason: string;
  readonly actor: Actor;
  readonly cause?: string;
  readonly engagedAt: string;
}

export interface EnginePause {
  readonly reason: string;
  /** Who paused last (a second pause in force merges into the first). */
  readonly actor: Actor;
  readonly cause?: string;
  /** Absent: paused until an operator resumes the engine. */
  readonly cooldownUntil?: string;
  readonly pausedAt: string;
  /**
   * When automation asked for it (its request may be applied late: the gate restarting, a
   * backlog): what an automatic resume requested later is compared with. Absent: `pausedAt`.
   */
  readonly requestedAt?: string;
  /**
   * An operator paused the engine while this pause was in force, even if automation (the canary)
   * extended it later: then only an operator's own resume lifts it, never an automatic one.
   */
  readonly heldByOperator?: true;
}

/** Whether an operator holds this pause (paused it, or paused it again while it was in force). */
export function heldByOperator(pause: EnginePause): boolean {
  return pause.heldByOperator === true || pause.actor.kind === 'operator';
}

export interface AutonomyGrant {
  readonly phase: string;
  /** Sorted and without duplicates, so that equal grants serialise equally. */
  readonly whitelist: readonly string[];
  readonly cause: string;
  readonly appliedAt: string;
}

export interface GoLive {
  readonly enabled: boolean;
  /** When, by whom and why go-live last changed; null while it never has. */
  readonly changedAt: string | null;
  readonly actor: Actor | null;
  readonly reason: string | null;
}

/**
 * The control plane: one aggregate for the whole gate. Plain JSON (it is snapshotted to NATS KV):
 * optional fields are absent rather than undefined, and maps are records keyed by id.
 */
export interface ControlState {
  readonly goLive: GoLive;
  readonly checklist: Readonly<Partial<Record<GoLiveChecklistItem, ChecklistFact>>>;
  readonly killSwitches: {
    readonly global: KillSwitch | null;
    readonly engines: Readonly<Record<string, KillSwitch>>;
  };
  /** Action kind → class; kinds not listed get DEFAULT_EXECUTION_CLASS. */
  readonly executionClasses: Readonly<Record<string, ExecutionClass>>;
  /** Engine → mode; only engines not in DEFAULT_ENGINE_MODE are listed. */
  readonly engineModes: Readonly<Record<string, EngineMode>>;
  readonly pauses: Readonly<Record<string, EnginePause>>;
  readonly autonomy: Readonly<Record<string, AutonomyGrant>>;
  /**
   * When an operator last released each kill switch (`global`, or an engine id under `engines`)
   * and last resumed each engine. Absent until the first release/resume (and in snapshots older
   * than these fields): automation's requests made before them are stale.
   */
  readonly released?: { readonly global?: string; readonly engines?: Readonly<Record<string, string>> };
  readonly resumed?: Readonly<Record<string, string>>;
}

export function initialControlState(): ControlState {
  return {
    goLive: { enabled: false, changedAt: null, actor: null, reason: null },
    checklist: {},
    killSwitches: { global: null, engines: {} },
    executionClasses: {},
    engineModes: {},
    pauses: {},
    autonomy: {},
  };
}

export function executionClassOf(state: ControlState, actionKind: string): ExecutionClass {
  return own(state.executionClasses, actionKind) ?? DEFAULT_EXECUTION_CLASS;
}

export function engineModeOf(state: ControlState, engineId: string): EngineMode {
  return own(state.engineModes, engineId) ?? DEFAULT_ENGINE_MODE;
}

/** Checklist items that have not passed; an item nobody reported counts as not passed. */
export function failingChecklistItems(state: ControlState): GoLiveChecklistItem[] {
  return GO_LIVE_CHECKLIST_ITEMS.filter((item) => state.checklist[item]?.passed !== true);
}

export interface EffectiveKillSwitch {
  readonly scope: 'global' | 'engine';
  readonly killSwitch: KillSwitch;
}

/** The kill switch in force for an engine: the stricter of the global and the engine's own. */
export function effectiveKillSwitch(state: ControlState, engineId: string): EffectiveKillSwitch | null {
  const global = state.killSwitches.global;
  const engine = own(state.killSwitches.engines, engineId);
  if (engine && (!global || (engine.mode === 'hard' && global.mode === 'soft')))
    return { scope: 'engine', killSwitch: engine };
  return global ? { scope: 'global', killSwitch: global } : null;
}

/** Timestamps share one fixed-width UTC format, so string order is time order. */
export function isPauseInForce(pause: EnginePause, now: string): boolean {
  return pause.cooldownUntil === undefined || pause.cooldownUntil > now;
}

/** The engine's pause while it is in force (not lifted, cooldown not passed). */
export function activePause(state: ControlState, engineId: string, now: string): EnginePause | null {
  const pause = own(state.pauses, engineId);
  return pause && isPauseInForce(pause, now) ? pause : null;
}

/** When an operator last released the kill switch of this scope (engine id, or global when absent). */
export function lastReleaseOf(state: ControlState, engineId: string | undefined): string | undefined {
  return engineId === undefined ? state.released?.global : own(state.released?.engines ?? {}, engineId);
}

export function lastResumeOf(state: ControlState, engineId: string): string | undefined {
  return own(state.resumed ?? {}, engineId);
}

export function autonomyOf(state: ControlState, engineId: string): AutonomyGrant | null {
  return own(state.autonomy, engineId) ?? null;
}

/** The policy-relevant part of the control plane, as hashed into a verdict's `policyRevision`. */
export interface ControlPolicySnapshot {
  readonly goLive: boolean;
  readonly defaultExecutionClass: ExecutionClass;
  readonly executionClasses: Readonly<Record<string, ExecutionClass>>;
  readonly killSwitches: {
    readonly global: KillSwitchMode | null;
    readonly engines: Readonly<Record<string, KillSwitchMode>>;
  };
  readonly engineModes: Readonly<Record<string, EngineMode>>;
  readonly autonomy: Readonly<
    Record<string, { readonly phase: string; readonly whitelist: readonly string[] }>
  >;
}

function sortedRecord<T, R>(record: Readonly<Record<string, T>>, map: (value: T) => R): Record<string, R> {
  const out: Record<string, R> = {};
  for (const key of Object.keys(record).sort()) out[key] = map(record[key] as T);
  return out;
}

/**
 * What the verdicts depend on: go-live, execution classes, kill switches, engine modes and
 * autonomy phases, without who/why/when (which would change the revision without changing a
 * verdict). Pauses and checklist facts are operational state, not policy, and are left out. Keys
 * are sorted, so `JSON.stringify` is stable as well as JCS.
 */
export function policySnapshot(state: ControlState): ControlPolicySnapshot {
  return {
    goLive: state.goLive.enabled,
    defaultExecutionClass: DEFAULT_EXECUTION_CLASS,
    executionClasses: sortedRecord(state.executionClasses, (c) => c),
    killSwitches: {
      global: state.killSwitches.global?.mode ?? null,
      engines: sortedRecord(state.killSwitches.engines, (k) => k.mode),
    },
    engineModes: sortedRecord(state.engineModes, (m) => m),
    autonomy: sortedRecord(state.autonomy, (a) => ({ phase: a.phase, whitelist: [...a.whitelist] })),
  };
}
