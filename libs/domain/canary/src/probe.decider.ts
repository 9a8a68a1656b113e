import type {
  Actor,
  AlertView,
  CanaryAlertAcknowledged,
  CanaryAlertRaised,
  CanaryAlertResolved,
  CanaryKillSwitchRequested,
  CanaryProbeDefined,
  CanaryProbeRemoved,
  CanaryProbeStatusChanged,
  DataOf,
  ProbeConfig,
  ProbeStatus,
} from '@bifrost/contracts';
import { clipText, REASON_MAX_LENGTH } from '@bifrost/contracts';
import { IllegalStateError, ValidationError, type Decider } from '@bifrost/event-sourcing';
import {
  alertToAcknowledge,
  openAlert,
  withAlertAcknowledged,
  withAlertRaised,
  withAlertResolved,
} from './alerts';

/**
 * The run of results of one probe since its status last changed. Kept in memory by the service
 * (checks that change nothing publish nothing), so a restart starts counting afresh.
 */
export interface ProbeCounters {
  readonly consecutiveFailures: number;
  readonly consecutivePasses: number;
}

export const NO_RESULTS: ProbeCounters = { consecutiveFailures: 0, consecutivePasses: 0 };

/** One check result folded into the run: a failure breaks the passes, a pass breaks the failures. */
export function countCheck(counters: ProbeCounters, passed: boolean): ProbeCounters {
  return passed
    ? { consecutiveFailures: 0, consecutivePasses: counters.consecutivePasses + 1 }
    : { consecutiveFailures: counters.consecutiveFailures + 1, consecutivePasses: 0 };
}

export interface DefinedProbe {
  readonly status: 'defined';
  readonly probe: ProbeConfig;
  readonly health: ProbeStatus;
  readonly statusSince: string | null;
  readonly updatedAt: string;
  /** The latest alert of this probe (resolved or not), null while it never alerted. */
  readonly alert: AlertView | null;
  readonly alertCount: number;
  /** Whether the latest alert's kill switch request was stored (kill_switch probes). */
  readonly killRequested: boolean;
}

/** One probe aggregate: `bifrost.evt.canary.probe.<probeName>`. */
export type ProbeState =
  | { readonly status: 'absent' }
  | { readonly status: 'removed'; readonly removedAt: string; readonly alertCount: number }
  | DefinedProbe;

interface Operator {
  readonly actor: Actor;
  readonly reason: string;
  readonly now: string;
}

export type ProbeCommand =
  /** `onlyIfNew`: the default probes, defined on first start and never re-created once removed. */
  | {
      type: 'DefineProbe';
      data: Operator & {
        probe: ProbeConfig;
        onlyIfNew?: boolean;
        /**
         * The probe's current run of failed checks (the scheduler's count): what an escalation of a
         * DOWN probe reports. Absent or 0 (a restart, a pass since): the threshold that took it DOWN.
         */
        consecutiveFailures?: number;
      };
    }
  | { type: 'RemoveProbe'; data: Operator & { probeName: string } }
  | {
      type: 'RecordCheck';
      data: {
        probeName: string;
        passed: boolean;
        detail: string;
        latencyMs: number;
        /** The run including this check (see {@link countCheck}). */
        counters: ProbeCounters;
        now: string;
      };
    }
  | { type: 'AcknowledgeAlert'; data: Operator & { alertId: string } };

export type ProbeEvent =
  | { type: 'ProbeDefined'; data: DataOf<typeof CanaryProbeDefined> }
  | { type: 'ProbeRemoved'; data: DataOf<typeof CanaryProbeRemoved> }
  | { type: 'ProbeStatusChanged'; data: DataOf<typeof CanaryProbeStatusChanged> }
  | { type: 'AlertRaised'; data: DataOf<typeof CanaryAlertRaised> }
  | { type: 'AlertAcknowledged'; data: DataOf<typeof CanaryAlertAcknowledged> }
  | { type: 'AlertResolved'; data: DataOf<typeof CanaryAlertResolved> }
  | { type: 'KillSwitchRequested'; data: DataOf<typeof CanaryKillSwitchRequested> };

/** Kill switches a probe asks for are hard unless the probe says otherwise (fail safe). */
export const DEFAULT_KILL_MODE = 'hard' as const;

/** A check's detail as `ProbeStatusChanged` keeps it (the event schema's limit, in code points). */
const DETAIL_MAX_LENGTH = 500;

export function requireOperator(actor: Actor, what: string): void {
  if (actor.kind !== 'operator')
    throw new IllegalStateError(`${what} requires an operator, not ${actor.kind} "${actor.id}"`, {
      code: 'CANARY.OPERATOR_REQUIRED',
    });
}

/** Rejects probe settings the schema cannot express: targets by kind, pause_engine without engine. */
export function validateProbe(probe: ProbeConfig): void {
  const invalid = (message: string, code = 'CANARY.INVALID_PROBE') => {
    throw new ValidationError(`probe ${probe.name}: ${message}`, { code, details: { probe: probe.name } });
  };
  if (probe.action === 'pause_engine' && !probe.engineId) invalid('pause_engine needs an engineId');
  if (probe.timeoutMs > probe.intervalMs) invalid('timeoutMs must not exceed intervalMs');
  if (probe.kind !== 'http' && (probe.expectStatus !== undefined || probe.expectBody !== undefined))
    invalid('expectStatus/expectBody apply to http probes only');
  if (probe.kind !== 'postgres' && probe.query !== undefined)
    invalid('query applies to postgres probes only');
  switch (probe.kind) {
    case 'http':
      if (!/^https?:\/\/[^\s/]+/.test(probe.target))
        invalid('target must be an http(s) URL', 'CANARY.INVALID_TARGET');
      break;
    case 'tcp': {
      const match = /^([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(probe.target);
      if (!match || Number(match[2]) < 1 || Number(match[2]) > 65_535)
        invalid('target must be host:port', 'CANARY.INVALID_TARGET');
      break;
    }
    case 'nats':
      if (!/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/.test(probe.target))
        invalid('target must be a NATS subject without wildcards', 'CANARY.INVALID_TARGET');
      break;
    case 'postgres':
      if (probe.target !== '$DATABASE_URL' && !/^postgres(ql)?:\/\//.test(probe.target))
        invalid('target must be a postgres:// URL or $DATABASE_URL', 'CANARY.INVALID_TARGET');
      break;
    default: {
      const unknown: never = probe.kind;
      invalid(`unknown kind ${String(unknown)}`);
    }
  }
}

export function probeAlertId(probeName: string, n: number): string {
  return `probe:${probeName}:${n}`;
}

function sameConfig(a: ProbeConfig, b: ProbeConfig): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof ProbeConfig)[]);
  return [...keys].every((k) => a[k] === b[k]);
}

/**
 * What a probe does on going DOWN: an alert (naming the probe's engine, if any, so the engine's
 * alerts include it), and for kill_switch the request to the gate. For pause_engine the pause is an
 * engine-aggregate event the service asks for on seeing the alert (see engineDecider's RequestPause).
 */
function actionEvents(
  probe: ProbeConfig,
  alertCount: number,
  why: string,
  consecutiveFailures: number,
  now: string,
): ProbeEvent[] {
  const reason = clipText(why, REASON_MAX_LENGTH);
  const alertId = probeAlertId(probe.name, alertCount + 1);
  const events: ProbeEvent[] = [
    {
      type: 'AlertRaised',
      data: {
        alertId,
        probeName: probe.name,
        ...(probe.engineId ? { engineId: probe.engineId } : {}),
        action: probe.action,
        reason,
        at: now,
      },
    },
  ];
  if (probe.action === 'kill_switch') events.push(killRequest(probe, reason, consecutiveFailures));
  return events;
}

function killRequest(probe: ProbeConfig, reason: string, consecutiveFailures: number): ProbeEvent {
  return {
    type: 'KillSwitchRequested',
    data: {
      probeName: probe.name,
      ...(probe.engineId ? { engineId: probe.engineId } : {}),
      mode: probe.killMode ?? DEFAULT_KILL_MODE,
      reason,
      consecutiveFailures,
    },
  };
}

/**
 * What a DOWN probe's going DOWN left unstored: its alert, or a kill_switch probe's request. The
 * events of one decision are stored one message at a time, so an append cut short after
 * `ProbeStatusChanged` leaves the probe DOWN and silent; a check of it while still DOWN completes it.
 */
function completeDown(state: DefinedProbe, consecutiveFailures: number, now: string): ProbeEvent[] {
  const { probe, alert, statusSince } = state;
  const failures = consecutiveFailures || probe.failureThreshold;
  if (!alert || statusSince === null || alert.raisedAt < statusSince) {
    return actionEvents(
      probe,
      state.alertCount,
      `DOWN since ${statusSince ?? now} (its alert was not stored)`,
      failures,
      now,
    );
  }
  if (probe.action === 'kill_switch' && !state.killRequested && alert.resolvedAt === null) {
    return [killRequest(probe, clipText(alert.reason, REASON_MAX_LENGTH), failures)];
  }
  return [];
}

/** Whether `next` acts at the gate differently from `previous`: a new target or a stronger action. */
function escalates(previous: ProbeConfig, next: ProbeConfig): boolean {
  if (next.action === 'alert_only') return false;
  return (
    previous.action !== next.action ||
    previous.engineId !== next.engineId ||
    (previous.killMode ?? DEFAULT_KILL_MODE) !== (next.killMode ?? DEFAULT_KILL_MODE)
  );
}

function decideCheck(
  c: Extract<ProbeCommand, { type: 'RecordCheck' }>['data'],
  state: DefinedProbe,
): ProbeEvent[] {
  const { probe, health } = state;
  const { consecutiveFailures, consecutivePasses } = c.counters;
  const changed = (to: ProbeStatus): ProbeEvent => ({
    type: 'ProbeStatusChanged',
    data: {
      probeName: probe.name,
      from: health,
      to,
      consecutiveFailures,
      consecutivePasses,
      detail: clipText(c.detail, DETAIL_MAX_LENGTH),
      latencyMs: Math.max(0, Math.round(c.latencyMs)),
      at: c.now,
    },
  });
  if (health !== 'DOWN' && consecutiveFailures >= probe.failureThreshold) {
    const reason = `${consecutiveFailures} consecutive failures (threshold ${probe.failureThreshold}): ${c.detail}`;
    return [changed('DOWN'), ...actionEvents(probe, state.alertCount, reason, consecutiveFailures, c.now)];
  }
  // From UNKNOWN one pass is enough; a DOWN probe must pass recoveryThreshold times in a row.
  if (health === 'UNKNOWN' && consecutivePasses >= 1) return [changed('UP')];
  if (health === 'DOWN' && consecutivePasses >= probe.recoveryThreshold) return [changed('UP')];
  return health === 'DOWN' ? completeDown(state, consecutiveFailures, c.now) : [];
}

export const probeDecider: Decider<ProbeState, ProbeCommand, ProbeEvent, void> = {
  // 2: killRequested (2026-12-07).
  stateVersion: 2,
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    switch (command.type) {
      case 'DefineProbe': {
        const { probe, actor, reason, now, onlyIfNew, consecutiveFailures } = command.data;
        if (onlyIfNew && state.status !== 'absent') return [];
        if (actor.kind !== 'system') requireOperator(actor, 'defining a probe');
        validateProbe(probe);
        const previous = state.status === 'defined' ? state.probe : null;
        if (previous && sameConfig(previous, probe)) return [];
        const defined: ProbeEvent = {
          type: 'ProbeDefined',
          data: { probeName: probe.name, probe, previous, actor, reason, at: now },
        };
        // Escalating a probe that is DOWN acts now, not at its next failure after a recovery; its
        // open alert is resolved first, as every older alert is when the next is raised.
        if (state.status === 'defined' && state.health === 'DOWN' && previous && escalates(previous, probe)) {
          const why = `escalated to ${probe.action} while DOWN: ${reason}`;
          const open = openAlert(state);
          const next = probeAlertId(probe.name, state.alertCount + 1);
          const resolved: ProbeEvent[] = open
            ? [
                {
                  type: 'AlertResolved',
                  data: {
                    alertId: open.alertId,
                    probeName: probe.name,
                    reason: `superseded by ${next}: escalated to ${probe.action}`,
                    at: now,
                  },
                },
              ]
            : [];
          return [
            defined,
            ...resolved,
            ...actionEvents(
              probe,
              state.alertCount,
              why,
              consecutiveFailures || previous.failureThreshold,
              now,
            ),
          ];
        }
        return [defined];
      }
      case 'RemoveProbe': {
        const { probeName, actor, reason, now } = command.data;
        requireOperator(actor, 'removing a probe');
        if (state.status !== 'defined') return [];
        return [{ type: 'ProbeRemoved', data: { probeName, actor, reason, at: now } }];
      }
      case 'RecordCheck':
        // A check still in flight when its probe was removed changes nothing.
        return state.status === 'defined' ? decideCheck(command.data, state) : [];
      case 'AcknowledgeAlert': {
        const { alertId, actor, reason, now } = command.data;
        requireOperator(actor, 'acknowledging an alert');
        if (!alertToAcknowledge(state.status === 'defined' ? state.alert : null, alertId)) return [];
        const probeName = (state as DefinedProbe).probe.name;
        return [{ type: 'AlertAcknowledged', data: { alertId, probeName, actor, reason, at: now } }];
      }
      default: {
        const unknown: never = command;
        throw new IllegalStateError(`unknown command ${JSON.stringify(unknown)}`);
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ProbeDefined': {
        const { probe, at } = event.data;
        if (state.status === 'defined') return { ...state, probe, updatedAt: at };
        return {
          status: 'defined',
          probe,
          health: 'UNKNOWN',
          statusSince: null,
          updatedAt: at,
          alert: null,
          alertCount: state.status === 'removed' ? state.alertCount : 0,
          killRequested: false,
        };
      }
      case 'ProbeRemoved':
        return state.status === 'defined'
          ? { status: 'removed', removedAt: event.data.at, alertCount: state.alertCount }
          : state;
      default:
        break;
    }
    if (state.status !== 'defined') return state;
    switch (event.type) {
      case 'ProbeStatusChanged': {
        const { to, at } = event.data;
        const alert =
          to === 'UP' && state.alert && !state.alert.resolvedAt
            ? { ...state.alert, resolvedAt: at }
            : state.alert;
        return { ...state, health: to, statusSince: at, alert };
      }
      case 'AlertRaised':
        return { ...withAlertRaised(state, event.data), killRequested: false };
      case 'AlertAcknowledged':
        return withAlertAcknowledged(state, event.data);
      case 'AlertResolved':
        return withAlertResolved(state, event.data);
      case 'KillSwitchRequested':
        return { ...state, killRequested: true };
      default: {
        const _exhaustive: never = event;
        return state;
      }
    }
  },
};
