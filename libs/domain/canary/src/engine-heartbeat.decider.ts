import type {
  Actor,
  AlertView,
  CanaryAlertAcknowledged,
  CanaryAlertRaised,
  CanaryAlertResolved,
  CanaryEngineHeartbeatRestored,
  CanaryEnginePauseRequested,
  CanaryEngineResumeRequested,
  CanaryEngineSignedOff,
  CanaryEngineSignedOn,
  CanaryEngineWatched,
  CanaryEngineWentStale,
  CanaryHeartbeatPolicySet,
  DataOf,
  EngineHealth,
} from '@bifrost/contracts';
import { clipText, REASON_MAX_LENGTH } from '@bifrost/contracts';
import { IllegalStateError, type Decider } from '@bifrost/event-sourcing';
import {
  alertToAcknowledge,
  openAlert,
  withAlertAcknowledged,
  withAlertRaised,
  withAlertResolved,
} from './alerts';
import { requireOperator } from './probe.decider';

/**
 * The allowed silence of an engine unless an operator sets its own: three heartbeat intervals of
 * the SDK (10 s each), seed 004's stale rule ("no ack for 3× the heartbeat interval"). An engine
 * that declares a longer interval with its heartbeats gets three of its own intervals instead.
 */
export const DEFAULT_ALLOWED_GAP_MS = 30_000;
/** Seed 004's stale rule: silent for more than this many heartbeat intervals. */
export const STALE_AFTER_INTERVALS = 3;
/**
 * The most an engine's own declared interval can lengthen its allowed gap (three intervals of
 * 5 min): the engine is the party the dead-man switch watches, so its word alone does not switch
 * it off. A longer gap is an admin's heartbeat policy.
 */
export const MAX_DECLARED_GAP_MS = 15 * 60_000;

export interface WatchedEngine {
  readonly status: 'watched';
  readonly health: EngineHealth;
  /** Null: the service default. */
  readonly allowedGapMs: number | null;
  /** Who enabled auto-resume and when; null: a dead-man pause waits for an operator. */
  readonly autoResume: { readonly actor: Actor; readonly at: string } | null;
  readonly enabled: boolean;
  /** When the canary started watching: the reference while no heartbeat has been seen. */
  readonly watchedSince: string;
  readonly staleSince: string | null;
  /** While STALE: the last heartbeat before the silence; only a later one counts as fresh. */
  readonly lastHeartbeatBeforeStale: string | null;
  /** While OFFLINE: the heartbeat that signed off; only a later one signs the engine on again. */
  readonly signedOffAt: string | null;
  readonly alert: AlertView | null;
  readonly alertCount: number;
  /** While STALE: the alert its staleness raised, and whether the gate was asked for the pause. */
  readonly staleAlertId: string | null;
  readonly stalePauseAsked: boolean;
  /**
   * While STALE: a probe asked for a pause too. The gate holds one pause per engine (the first
   * request's), so a resume would lift the probe's pause as well: no auto-resume then.
   */
  readonly probePausedWhileStale: boolean;
}

/** One engine's dead-man switch: `bifrost.evt.canary.engine.<engineId>`. */
export type EngineHeartbeatState = { readonly status: 'unwatched' } | WatchedEngine;

export interface EngineHeartbeatContext {
  /** CANARY_HEARTBEAT_GAP_MS. */
  readonly defaultAllowedGapMs: number;
}

interface Operator {
  readonly actor: Actor;
  readonly reason: string;
  readonly now: string;
}

export type EngineHeartbeatCommand =
  /**
   * `signingOff`: the engine is stopping on purpose (and this is the newest heartbeat seen of it).
   * `pauseRequestId`: while STALE, the event id of the dead-man switch's pause request of this
   * silence ({@link stalePauseRequestId}); the auto-resume names it, and is asked only with it.
   */
  | {
      type: 'RecordHeartbeat';
      data: {
        engineId: string;
        heartbeatAt: string;
        signingOff?: boolean;
        pauseRequestId?: string | null;
        now: string;
      };
    }
  /**
   * The periodic sweep: `lastHeartbeatAt` is what the service has seen (null: none since watching),
   * `intervalMs` the heartbeat interval the engine declared in its last heartbeat (null: none).
   */
  | {
      type: 'CheckHeartbeat';
      data: { engineId: string; lastHeartbeatAt: string | null; intervalMs?: number | null; now: string };
    }
  | {
      type: 'SetHeartbeatPolicy';
      data: Operator & {
        engineId: string;
        allowedGapMs?: number | null;
        autoResume?: boolean;
        enabled?: boolean;
      };
    }
  /** A pause_engine probe went DOWN (or was escalated to pause_engine while DOWN). */
  | { type: 'RequestPause'; data: { engineId: string; probeName: string; reason: string; now: string } }
  | { type: 'AcknowledgeAlert'; data: Operator & { engineId: string; alertId: string } };

export type EngineHeartbeatEvent =
  | { type: 'EngineWatched'; data: DataOf<typeof CanaryEngineWatched> }
  | { type: 'HeartbeatPolicySet'; data: DataOf<typeof CanaryHeartbeatPolicySet> }
  | { type: 'EngineWentStale'; data: DataOf<typeof CanaryEngineWentStale> }
  | { type: 'AlertRaised'; data: DataOf<typeof CanaryAlertRaised> }
  | { type: 'AlertAcknowledged'; data: DataOf<typeof CanaryAlertAcknowledged> }
  | { type: 'AlertResolved'; data: DataOf<typeof CanaryAlertResolved> }
  | { type: 'EnginePauseRequested'; data: DataOf<typeof CanaryEnginePauseRequested> }
  | { type: 'EngineHeartbeatRestored'; data: DataOf<typeof CanaryEngineHeartbeatRestored> }
  | { type: 'EngineSignedOff'; data: DataOf<typeof CanaryEngineSignedOff> }
  | { type: 'EngineSignedOn'; data: DataOf<typeof CanaryEngineSignedOn> }
  | { type: 'EngineResumeRequested'; data: DataOf<typeof CanaryEngineResumeRequested> };

export function engineAlertId(engineId: string, n: number): string {
  return `engine:${engineId}:${n}`;
}

/**
 * How long an engine may be silent: the gap an operator set for it; else three of the heartbeat
 * intervals it declares, at most {@link MAX_DECLARED_GAP_MS}, but never less than the service
 * default (a fast heartbeat is not a promise of a fast network).
 */
export function allowedGapOf(
  state: WatchedEngine,
  ctx: EngineHeartbeatContext,
  declaredIntervalMs: number | null = null,
): number {
  return (
    state.allowedGapMs ??
    Math.max(
      ctx.defaultAllowedGapMs,
      Math.min(STALE_AFTER_INTERVALS * (declaredIntervalMs ?? 0), MAX_DECLARED_GAP_MS),
    )
  );
}

/** The alert and pause request a staleness left unstored (see {@link staleIncomplete}). */
function completeStale(state: WatchedEngine, engineId: string, now: string): EngineHeartbeatEvent[] {
  const reason = `no heartbeat since ${state.lastHeartbeatBeforeStale ?? state.watchedSince} (stale since ${state.staleSince ?? now})`;
  const events: EngineHeartbeatEvent[] = [];
  if (state.staleAlertId !== null && state.alert?.alertId !== state.staleAlertId) {
    events.push({
      type: 'AlertRaised',
      data: { alertId: state.staleAlertId, engineId, action: 'pause_engine', reason, at: now },
    });
  }
  if (!state.stalePauseAsked) {
    events.push({ type: 'EnginePauseRequested', data: { engineId, reason: `dead-man switch: ${reason}` } });
  }
  return events;
}

/**
 * The event id of the dead-man switch's pause request of the engine's current silence: the first
 * `EnginePauseRequested` naming no probe after the last `EngineWentStale` of its events (in stream
 * order, with their envelope ids). What the auto-resume names; null when none is stored.
 */
export function stalePauseRequestId(
  events: Iterable<{ readonly id: string; readonly event: EngineHeartbeatEvent }>,
): string | null {
  let found: string | null = null;
  for (const { id, event } of events) {
    if (event.type === 'EngineWentStale') found = null;
    else if (event.type === 'EnginePauseRequested' && event.data.probeName === undefined) found ??= id;
  }
  return found;
}

/** Whether an engine last heard from at `lastHeartbeatAt` (or watched since then) is silent too long at `now`. */
export function silentFor(state: WatchedEngine, lastHeartbeatAt: string | null, now: string): number {
  return Date.parse(now) - Date.parse(lastHeartbeatAt ?? state.watchedSince);
}

const WATCHED: Omit<WatchedEngine, 'watchedSince'> = {
  status: 'watched',
  health: 'ALIVE',
  allowedGapMs: null,
  autoResume: null,
  enabled: true,
  staleSince: null,
  lastHeartbeatBeforeStale: null,
  signedOffAt: null,
  alert: null,
  alertCount: 0,
  staleAlertId: null,
  stalePauseAsked: false,
  probePausedWhileStale: false,
};

/**
 * A STALE engine whose alert or pause request was not stored with its staleness (the three are
 * stored one message at a time: an append cut short after the first leaves the engine STALE,
 * unpaused, and judged no more). The sweep's next `CheckHeartbeat` completes it.
 */
export function staleIncomplete(state: EngineHeartbeatState): boolean {
  return (
    state.status === 'watched' &&
    state.health === 'STALE' &&
    state.enabled &&
    (!state.stalePauseAsked || (state.staleAlertId !== null && state.alert?.alertId !== state.staleAlertId))
  );
}

export const engineHeartbeatDecider: Decider<
  EngineHeartbeatState,
  EngineHeartbeatCommand,
  EngineHeartbeatEvent,
  EngineHeartbeatContext
> = {
  // 2: staleAlertId, stalePauseAsked (2026-12-07). 3: probePausedWhileStale.
  stateVersion: 3,
  initialState: () => ({ status: 'unwatched' }),

  decide(command, state, ctx) {
    switch (command.type) {
      case 'RecordHeartbeat': {
        const { engineId, heartbeatAt, signingOff, pauseRequestId, now } = command.data;
        const signOff: EngineHeartbeatEvent[] = signingOff
          ? [{ type: 'EngineSignedOff', data: { engineId, heartbeatAt, at: now } }]
          : [];
        if (state.status === 'unwatched')
          return [
            { type: 'EngineWatched', data: { engineId, firstHeartbeatAt: heartbeatAt, at: now } },
            ...signOff,
          ];
        if (state.health === 'ALIVE') return signOff;
        if (state.health === 'OFFLINE') {
          // A redelivered sign-off, or a heartbeat from before it, says nothing new.
          if (signingOff || (state.signedOffAt && heartbeatAt <= state.signedOffAt)) return [];
          return [
            {
              type: 'EngineSignedOn',
              data: { engineId, heartbeatAt, signedOffAt: state.signedOffAt ?? heartbeatAt, at: now },
            },
          ];
        }
        // A redelivered or late heartbeat from before the silence proves nothing.
        if (state.lastHeartbeatBeforeStale && heartbeatAt <= state.lastHeartbeatBeforeStale) return [];
        const events: EngineHeartbeatEvent[] = [
          {
            type: 'EngineHeartbeatRestored',
            data: { engineId, heartbeatAt, staleSince: state.staleSince ?? now, at: now },
          },
        ];
        // The resume names the dead-man request it answers: the gate lifts the pause only if that
        // request caused it, not one a probe asked for before the silence. Without the request
        // stored there is no dead-man pause to lift.
        if (state.autoResume && state.enabled && !state.probePausedWhileStale && pauseRequestId) {
          events.push({
            type: 'EngineResumeRequested',
            data: {
              engineId,
              reason: `fresh heartbeat at ${heartbeatAt} after silence since ${state.staleSince ?? '?'} (auto-resume)`,
              authorizedBy: state.autoResume.actor,
              authorizedAt: state.autoResume.at,
              pauseRequestId,
            },
          });
        }
        return [...events, ...signOff];
      }
      case 'CheckHeartbeat': {
        const { engineId, lastHeartbeatAt, intervalMs, now } = command.data;
        if (state.status === 'unwatched' || !state.enabled) return [];
        if (staleIncomplete(state)) return completeStale(state, engineId, now);
        if (state.health !== 'ALIVE') return [];
        const gap = allowedGapOf(state, ctx, intervalMs ?? null);
        const silent = silentFor(state, lastHeartbeatAt, now);
        if (silent <= gap) return [];
        const alertId = engineAlertId(engineId, state.alertCount + 1);
        const last = lastHeartbeatAt ?? state.watchedSince;
        const reason = `no heartbeat for ${silent} ms (allowed ${gap} ms, last ${lastHeartbeatAt ?? 'none since watching'})`;
        return [
          {
            type: 'EngineWentStale',
            data: {
              engineId,
              lastHeartbeatAt: last,
              allowedGapMs: gap,
              silentForMs: silent,
              alertId,
              at: now,
            },
          },
          { type: 'AlertRaised', data: { alertId, engineId, action: 'pause_engine', reason, at: now } },
          { type: 'EnginePauseRequested', data: { engineId, reason: `dead-man switch: ${reason}` } },
        ];
      }
      case 'SetHeartbeatPolicy': {
        const { engineId, actor, reason, now } = command.data;
        requireOperator(actor, 'setting a heartbeat policy');
        const current = state.status === 'watched' ? state : { ...WATCHED, watchedSince: now };
        const allowedGapMs =
          command.data.allowedGapMs === undefined ? current.allowedGapMs : command.data.allowedGapMs;
        const autoResume = command.data.autoResume ?? current.autoResume !== null;
        const enabled = command.data.enabled ?? current.enabled;
        // A disabled engine is never judged stale: disabling a STALE one ends its silence verdict.
        const endsStale = !enabled && current.health === 'STALE';
        if (
          state.status === 'watched' &&
          !endsStale &&
          allowedGapMs === current.allowedGapMs &&
          autoResume === (current.autoResume !== null) &&
          enabled === current.enabled
        )
          return [];
        const events: EngineHeartbeatEvent[] = [
          {
            type: 'HeartbeatPolicySet',
            data: { engineId, allowedGapMs, autoResume, enabled, actor, reason, at: now },
          },
        ];
        const open = openAlert(current);
        if (endsStale && open) {
          events.push({
            type: 'AlertResolved',
            data: {
              alertId: open.alertId,
              engineId,
              reason: clipText(`watching disabled by ${actor.id}: ${reason}`, REASON_MAX_LENGTH),
              at: now,
            },
          });
        }
        return events;
      }
      case 'RequestPause': {
        const { engineId, probeName, reason } = command.data;
        return [
          {
            type: 'EnginePauseRequested',
            data: { engineId, reason: clipText(reason, REASON_MAX_LENGTH), probeName },
          },
        ];
      }
      case 'AcknowledgeAlert': {
        const { engineId, alertId, actor, reason, now } = command.data;
        requireOperator(actor, 'acknowledging an alert');
        if (!alertToAcknowledge(state.status === 'watched' ? state.alert : null, alertId)) return [];
        return [{ type: 'AlertAcknowledged', data: { alertId, engineId, actor, reason, at: now } }];
      }
      default: {
        const unknown: never = command;
        throw new IllegalStateError(`unknown command ${JSON.stringify(unknown)}`);
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'EngineWatched':
        return state.status === 'watched' ? state : { ...WATCHED, watchedSince: event.data.at };
      case 'HeartbeatPolicySet': {
        const { allowedGapMs, autoResume, enabled, actor, at } = event.data;
        const current = state.status === 'watched' ? state : { ...WATCHED, watchedSince: at };
        const next: WatchedEngine = {
          ...current,
          allowedGapMs,
          enabled,
          // Re-enabling keeps the operator who first enabled it; disabling forgets them.
          autoResume: autoResume ? (current.autoResume ?? { actor, at }) : null,
        };
        // Disabled: never judged stale, so a STALE engine is ALIVE as if its silence had not been
        // judged. The gate's pause stays: no heartbeat ends this staleness, so no auto-resume either.
        return !enabled && current.health === 'STALE'
          ? { ...next, health: 'ALIVE', staleSince: null, lastHeartbeatBeforeStale: null }
          : next;
      }
      default:
        break;
    }
    if (state.status !== 'watched') return state;
    switch (event.type) {
      case 'EngineWentStale':
        return {
          ...state,
          health: 'STALE',
          staleSince: event.data.at,
          lastHeartbeatBeforeStale: event.data.lastHeartbeatAt,
          staleAlertId: event.data.alertId,
          stalePauseAsked: false,
          probePausedWhileStale: false,
        };
      case 'AlertRaised':
        return withAlertRaised(state, event.data);
      case 'AlertAcknowledged':
        return withAlertAcknowledged(state, event.data);
      case 'AlertResolved':
        return withAlertResolved(state, event.data);
      case 'EngineHeartbeatRestored': {
        const alert =
          state.alert && !state.alert.resolvedAt
            ? { ...state.alert, resolvedAt: event.data.at }
            : state.alert;
        return { ...state, health: 'ALIVE', staleSince: null, lastHeartbeatBeforeStale: null, alert };
      }
      case 'EngineSignedOff':
        return { ...state, health: 'OFFLINE', signedOffAt: event.data.heartbeatAt };
      case 'EngineSignedOn':
        return { ...state, health: 'ALIVE', signedOffAt: null };
      case 'EnginePauseRequested':
        // The dead-man switch's own, or a probe's (it names the probe).
        if (state.health !== 'STALE') return state;
        return event.data.probeName === undefined
          ? { ...state, stalePauseAsked: true }
          : { ...state, probePausedWhileStale: true };
      case 'EngineResumeRequested':
        return state;
      default: {
        const _exhaustive: never = event;
        return state;
      }
    }
  },
};
