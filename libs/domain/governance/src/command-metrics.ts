import {
  INCIDENT_SEVERITIES,
  METRIC_WINDOWS,
  type CommandOutcome,
  type IncidentSeverity,
  type MetricWindow,
} from '@bifrost/contracts';
import { ValidationError } from '@bifrost/event-sourcing';

/** A command an engine reported (`ingest.CommandReported` data) stamped with when it was received. */
export interface CommandRecord {
  readonly commandId: string;
  readonly commandType: string;
  /** RFC 3339 receive time. */
  readonly at: string;
  readonly outcome: CommandOutcome;
  readonly requiredApproval: boolean;
  readonly approved?: boolean;
  readonly durationMs?: number;
}

/** An incident an engine reported (`ingest.IncidentReported` data) stamped with when it was received. */
export interface IncidentRecord {
  readonly incidentId: string;
  readonly at: string;
  readonly severity: IncidentSeverity;
  readonly commandType?: string;
  readonly summary: string;
}

/** Counts and rates of one engine's commands and incidents over a window ending at `now`. */
export interface WindowMetrics {
  readonly window: string;
  readonly commands: number;
  readonly successes: number;
  readonly errors: number;
  readonly rollbacks: number;
  /** Commands that did not succeed: errors + rollbacks. */
  readonly failures: number;
  /** The rates are shares of `commands`, 0 when there were none. */
  readonly successRate: number;
  readonly errorRate: number;
  readonly rollbackRate: number;
  /** Commands that waited for a human. */
  readonly approvalsRequired: number;
  /** Of those, the ones the human approved. */
  readonly approvalsGranted: number;
  /** approvalsGranted / approvalsRequired, 0 when no command required approval. */
  readonly approvalRate: number;
  readonly incidents: number;
  readonly criticalIncidents: number;
  /** The most severe incident in the window, null when there was none. */
  readonly maxSeverity: IncidentSeverity | null;
}

/** Bounded history per engine: what the longest window (30 days) needs, at most `HISTORY_LIMITS` records. */
export interface MetricsHistory {
  readonly commands: readonly CommandRecord[];
  readonly incidents: readonly IncidentRecord[];
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const DURATION_MS: Readonly<Record<MetricWindow, number>> = {
  '1m': MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '1h': 60 * MINUTE,
  '24h': DAY,
  '7d': 7 * DAY,
  '30d': 30 * DAY,
};

/**
 * A window: one of `METRIC_WINDOWS`, or whole minutes (`10m`, a circuit breaker's: 1 to 60, the
 * range the contract's `BreakerWindow` allows).
 */
export type Window = MetricWindow | string;

export function durationMs(window: Window): number {
  const known = DURATION_MS[window as MetricWindow];
  if (known !== undefined) return known;
  const minutes = /^([1-9][0-9]*)m$/.exec(window);
  if (!minutes)
    throw new ValidationError(
      `"${window}" is no window: whole minutes (e.g. 10m) or one of ${METRIC_WINDOWS.join(', ')}`,
    );
  return Number(minutes[1]) * MINUTE;
}

/**
 * How much history an engine keeps: records older than `retentionMs` are dropped, and beyond the caps
 * the oldest go first (the history lives in the agent's snapshots, so it must stay well below the
 * NATS payload limit: ~120 bytes per command).
 */
export const HISTORY_LIMITS = { retentionMs: 30 * DAY, maxCommands: 5_000, maxIncidents: 1_000 } as const;

export const EMPTY_HISTORY: MetricsHistory = { commands: [], incidents: [] };

/** Adds a command record; a command id already in the history is ignored (redelivery). */
export function appendCommand(h: MetricsHistory, r: CommandRecord, now: string): MetricsHistory {
  if (h.commands.some((c) => c.commandId === r.commandId)) return h;
  return {
    commands: bounded([...h.commands, r], now, HISTORY_LIMITS.maxCommands),
    incidents: bounded(h.incidents, now, HISTORY_LIMITS.maxIncidents),
  };
}

/** Adds an incident record; an incident id already in the history is ignored (redelivery). */
export function appendIncident(h: MetricsHistory, r: IncidentRecord, now: string): MetricsHistory {
  if (h.incidents.some((i) => i.incidentId === r.incidentId)) return h;
  return {
    commands: bounded(h.commands, now, HISTORY_LIMITS.maxCommands),
    incidents: bounded([...h.incidents, r], now, HISTORY_LIMITS.maxIncidents),
  };
}

// Records arrive (nearly) in time order, so expired ones are at the front; one that arrived late
// may stay a little longer, which is harmless because windows filter by time anyway.
function bounded<T extends { readonly at: string }>(records: readonly T[], now: string, cap: number): T[] {
  const oldest = Date.parse(now) - HISTORY_LIMITS.retentionMs;
  let start = Math.max(0, records.length - cap);
  while (start < records.length && Date.parse((records[start] as T).at) <= oldest) start += 1;
  return records.slice(start);
}

/** The command types with at least one command in the window, sorted. */
export function commandTypesIn(h: MetricsHistory, window: Window, now: string): string[] {
  const inWindow = windowFilter(window, now);
  return [...new Set(h.commands.filter((c) => inWindow(c.at)).map((c) => c.commandType))].sort();
}

/**
 * The records that happened after `since` (exclusive). A breaker whose last event an operator
 * resolved counts only these: what tripped it once does not trip it again.
 */
export function historyAfter(h: MetricsHistory, since: string): MetricsHistory {
  const after = Date.parse(since);
  return {
    commands: h.commands.filter((c) => Date.parse(c.at) > after),
    incidents: h.incidents.filter((i) => Date.parse(i.at) > after),
  };
}

function windowFilter(window: Window, now: string): (at: string) => boolean {
  const end = Date.parse(now);
  const start = end - durationMs(window);
  return (at) => {
    const t = Date.parse(at);
    return t > start && t <= end;
  };
}

/**
 * Metrics over `(now − window, now]`. With `commandType`, only that type's commands and the
 * incidents attributed to it count.
 */
export function windowMetrics(
  h: MetricsHistory,
  window: Window,
  now: string,
  commandType?: string,
): WindowMetrics {
  const inWindow = windowFilter(window, now);
  const commands = h.commands.filter(
    (c) => inWindow(c.at) && (commandType === undefined || c.commandType === commandType),
  );
  const incidents = h.incidents.filter(
    (i) => inWindow(i.at) && (commandType === undefined || i.commandType === commandType),
  );
  const count = (outcome: CommandOutcome) => commands.filter((c) => c.outcome === outcome).length;
  const successes = count('success');
  const errors = count('error');
  const rollbacks = count('rolled_back');
  const approvalsRequired = commands.filter((c) => c.requiredApproval).length;
  const approvalsGranted = commands.filter((c) => c.requiredApproval && c.approved === true).length;
  return {
    window,
    commands: commands.length,
    successes,
    errors,
    rollbacks,
    failures: errors + rollbacks,
    successRate: ratio(successes, commands.length),
    errorRate: ratio(errors, commands.length),
    rollbackRate: ratio(rollbacks, commands.length),
    approvalsRequired,
    approvalsGranted,
    approvalRate: ratio(approvalsGranted, approvalsRequired),
    incidents: incidents.length,
    criticalIncidents: incidents.filter((i) => i.severity === 'critical').length,
    maxSeverity: incidents.reduce<IncidentSeverity | null>(
      (max, i) => (max === null || severityRank(i.severity) > severityRank(max) ? i.severity : max),
      null,
    ),
  };
}

/** 0 for low … 3 for critical; −1 for "no incident". */
export function severityRank(severity: IncidentSeverity | null): number {
  return severity === null ? -1 : INCIDENT_SEVERITIES.indexOf(severity);
}

// a / b is the double nearest the exact ratio, as is a literal like 0.05, so thresholds compare exactly.
function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}
