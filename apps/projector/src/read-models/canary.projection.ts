import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { aggregateIdOf, dataOf, perMessage, type Projection } from './projection';

/** A probe's open alerts end: it came back UP, or it was removed. */
const RESOLVE_PROBE_ALERTS = `UPDATE canary_alerts SET resolved_at = $2 WHERE probe_name = $1 AND resolved_at IS NULL`;

/** Every probe the canary runs or ran: settings and current status. */
@Entity({ name: 'canary_probes' })
export class CanaryProbeRow {
  @PrimaryColumn({ name: 'probe_name', type: 'text' }) probeName!: string;
  @Column({ type: 'jsonb' }) config!: Record<string, unknown>;
  @Column({ type: 'text' }) kind!: string;
  @Column({ type: 'text' }) action!: string;
  @Column({ type: 'text' }) status!: string;
  @Column({ name: 'status_since', type: 'timestamptz', nullable: true }) statusSince!: Date | null;
  @Column({ type: 'boolean' }) removed!: boolean;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** The check results that changed a probe's status, newest last. */
@Entity({ name: 'canary_probe_history' })
@Index(['probeName', 'at'])
export class CanaryProbeHistoryRow {
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'probe_name', type: 'text' }) probeName!: string;
  @Column({ name: 'from_status', type: 'text' }) fromStatus!: string;
  @Column({ name: 'to_status', type: 'text' }) toStatus!: string;
  @Column({ name: 'consecutive_failures', type: 'integer' }) consecutiveFailures!: number;
  @Column({ name: 'consecutive_passes', type: 'integer' }) consecutivePasses!: number;
  @Column({ type: 'text' }) detail!: string;
  @Column({ name: 'latency_ms', type: 'integer' }) latencyMs!: number;
  @Column({ type: 'timestamptz' }) at!: Date;
}

/**
 * Alerts of probes and engines: raised, resolved (recovery, fresh heartbeat, removal, or
 * AlertResolved), acknowledged. A probe's alert names its engine too when the probe acts on one.
 */
@Entity({ name: 'canary_alerts' })
@Index(['raisedAt'])
export class CanaryAlertRow {
  @PrimaryColumn({ name: 'alert_id', type: 'text' }) alertId!: string;
  @Column({ name: 'probe_name', type: 'text', nullable: true }) probeName!: string | null;
  @Column({ name: 'engine_id', type: 'text', nullable: true }) engineId!: string | null;
  @Column({ type: 'text' }) action!: string;
  @Column({ type: 'text' }) reason!: string;
  @Column({ name: 'raised_at', type: 'timestamptz' }) raisedAt!: Date;
  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true }) resolvedAt!: Date | null;
  @Column({ name: 'acknowledged_by', type: 'jsonb', nullable: true }) acknowledgedBy!: Record<
    string,
    unknown
  > | null;
  @Column({ name: 'acknowledged_reason', type: 'text', nullable: true }) acknowledgedReason!: string | null;
  @Column({ name: 'acknowledged_at', type: 'timestamptz', nullable: true }) acknowledgedAt!: Date | null;
}

/** Engines under the dead-man switch: heartbeat policy and ALIVE / STALE. */
@Entity({ name: 'canary_engines' })
export class CanaryEngineRow {
  @PrimaryColumn({ name: 'engine_id', type: 'text' }) engineId!: string;
  @Column({ type: 'text' }) status!: string;
  /** Null: the canary's default gap. */
  @Column({ name: 'allowed_gap_ms', type: 'integer', nullable: true }) allowedGapMs!: number | null;
  @Column({ name: 'auto_resume', type: 'boolean' }) autoResume!: boolean;
  @Column({ type: 'boolean' }) enabled!: boolean;
  @Column({ name: 'stale_since', type: 'timestamptz', nullable: true }) staleSince!: Date | null;
  /** The last heartbeat the events name (first one, the last before a silence, the one that ended it). */
  @Column({ name: 'last_heartbeat_at', type: 'timestamptz', nullable: true }) lastHeartbeatAt!: Date | null;
  @Column({ name: 'resume_requested_at', type: 'timestamptz', nullable: true })
  resumeRequestedAt!: Date | null;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** The canary's periodic summaries (checks and failures per probe per interval). */
@Entity({ name: 'canary_summaries' })
@Index(['toAt'])
export class CanarySummaryRow {
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'from_at', type: 'timestamptz' }) fromAt!: Date;
  @Column({ name: 'to_at', type: 'timestamptz' }) toAt!: Date;
  @Column({ type: 'jsonb' }) probes!: unknown[];
  @Column({ type: 'jsonb' }) engines!: unknown[];
}

const ENGINE_DEFAULTS = `status, allowed_gap_ms, auto_resume, enabled`;

/** The canary's probes, status history, alerts, watched engines and summaries. */
export const canaryProjection: Projection = {
  name: 'canary',
  tables: ['canary_probes', 'canary_probe_history', 'canary_alerts', 'canary_engines', 'canary_summaries'],
  entities: [CanaryProbeRow, CanaryProbeHistoryRow, CanaryAlertRow, CanaryEngineRow, CanarySummaryRow],
  ...perMessage({
    'canary.ProbeDefined': (sql, message) => {
      const d = dataOf<{ probeName: string; probe: { kind: string; action: string }; at: string }>(message);
      sql.add(
        `INSERT INTO canary_probes (probe_name, config, kind, action, status, removed, updated_at)
         VALUES ($1, $2, $3, $4, 'UNKNOWN', false, $5)
         ON CONFLICT (probe_name) DO UPDATE SET config = EXCLUDED.config, kind = EXCLUDED.kind,
           action = EXCLUDED.action, updated_at = EXCLUDED.updated_at,
           status = CASE WHEN canary_probes.removed THEN 'UNKNOWN' ELSE canary_probes.status END,
           status_since = CASE WHEN canary_probes.removed THEN NULL ELSE canary_probes.status_since END,
           removed = false`,
        [d.probeName, JSON.stringify(d.probe), d.probe.kind, d.probe.action, d.at],
      );
    },
    'canary.ProbeRemoved': (sql, message) => {
      const d = dataOf<{ probeName: string; at: string }>(message);
      sql.add(`UPDATE canary_probes SET removed = true, updated_at = $2 WHERE probe_name = $1`, [
        d.probeName,
        d.at,
      ]);
      // A removed probe checks nothing more: its open alert ends with it.
      sql.add(RESOLVE_PROBE_ALERTS, [d.probeName, d.at]);
    },
    'canary.ProbeStatusChanged': (sql, message) => {
      const d = dataOf<{
        probeName: string;
        from: string;
        to: string;
        consecutiveFailures: number;
        consecutivePasses: number;
        detail: string;
        latencyMs: number;
        at: string;
      }>(message);
      sql.add(`UPDATE canary_probes SET status = $2, status_since = $3 WHERE probe_name = $1`, [
        d.probeName,
        d.to,
        d.at,
      ]);
      sql.add(
        `INSERT INTO canary_probe_history (event_id, probe_name, from_status, to_status, consecutive_failures,
           consecutive_passes, detail, latency_ms, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          message.envelope.id,
          d.probeName,
          d.from,
          d.to,
          d.consecutiveFailures,
          d.consecutivePasses,
          d.detail,
          d.latencyMs,
          d.at,
        ],
      );
      if (d.to === 'UP') {
        sql.add(RESOLVE_PROBE_ALERTS, [d.probeName, d.at]);
      }
    },
    'canary.AlertRaised': (sql, message) => {
      const d = dataOf<{
        alertId: string;
        probeName?: string;
        engineId?: string;
        action: string;
        reason: string;
        at: string;
      }>(message);
      sql.add(
        `INSERT INTO canary_alerts (alert_id, probe_name, engine_id, action, reason, raised_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [d.alertId, d.probeName ?? null, d.engineId ?? null, d.action, d.reason, d.at],
      );
    },
    'canary.AlertResolved': (sql, message) => {
      const d = dataOf<{ alertId: string; at: string }>(message);
      sql.add(`UPDATE canary_alerts SET resolved_at = $2 WHERE alert_id = $1 AND resolved_at IS NULL`, [
        d.alertId,
        d.at,
      ]);
    },
    'canary.AlertAcknowledged': (sql, message) => {
      const d = dataOf<{ alertId: string; actor: unknown; reason: string; at: string }>(message);
      sql.add(
        `UPDATE canary_alerts SET acknowledged_by = $2, acknowledged_reason = $3, acknowledged_at = $4
         WHERE alert_id = $1`,
        [d.alertId, JSON.stringify(d.actor), d.reason, d.at],
      );
    },
    'canary.EngineWatched': (sql, message) => {
      const d = dataOf<{ engineId: string; firstHeartbeatAt: string; at: string }>(message);
      sql.add(
        `INSERT INTO canary_engines (engine_id, ${ENGINE_DEFAULTS}, last_heartbeat_at, updated_at)
         VALUES ($1, 'ALIVE', NULL, false, true, $2, $3) ON CONFLICT (engine_id) DO NOTHING`,
        [d.engineId, d.firstHeartbeatAt, d.at],
      );
    },
    'canary.HeartbeatPolicySet': (sql, message) => {
      const d = dataOf<{
        engineId: string;
        allowedGapMs: number | null;
        autoResume: boolean;
        enabled: boolean;
        at: string;
      }>(message);
      // A disabled engine is never judged stale: disabling a STALE one makes it ALIVE (as the canary does).
      sql.add(
        `INSERT INTO canary_engines (engine_id, ${ENGINE_DEFAULTS}, updated_at) VALUES ($1, 'ALIVE', $2, $3, $4, $5)
         ON CONFLICT (engine_id) DO UPDATE SET allowed_gap_ms = EXCLUDED.allowed_gap_ms,
           auto_resume = EXCLUDED.auto_resume, enabled = EXCLUDED.enabled, updated_at = EXCLUDED.updated_at,
           status = CASE WHEN NOT EXCLUDED.enabled AND canary_engines.status = 'STALE' THEN 'ALIVE'
             ELSE canary_engines.status END,
           stale_since = CASE WHEN EXCLUDED.enabled THEN canary_engines.stale_since END`,
        [d.engineId, d.allowedGapMs, d.autoResume, d.enabled, d.at],
      );
    },
    'canary.EngineWentStale': (sql, message) => {
      const d = dataOf<{ engineId: string; lastHeartbeatAt: string; at: string }>(message);
      sql.add(
        `UPDATE canary_engines SET status = 'STALE', stale_since = $2, last_heartbeat_at = $3, updated_at = $2
         WHERE engine_id = $1`,
        [d.engineId, d.at, d.lastHeartbeatAt],
      );
    },
    'canary.EngineHeartbeatRestored': (sql, message) => {
      const d = dataOf<{ engineId: string; heartbeatAt: string; at: string }>(message);
      sql.add(
        `UPDATE canary_engines SET status = 'ALIVE', stale_since = NULL, last_heartbeat_at = $2, updated_at = $3
         WHERE engine_id = $1`,
        [d.engineId, d.heartbeatAt, d.at],
      );
      // The engine's own (dead-man) alerts; those of probes naming the engine end with their probe.
      sql.add(
        `UPDATE canary_alerts SET resolved_at = $2 WHERE engine_id = $1 AND probe_name IS NULL AND resolved_at IS NULL`,
        [d.engineId, d.at],
      );
    },
    'canary.EngineSignedOff': (sql, message) => {
      const d = dataOf<{ engineId: string; heartbeatAt: string; at: string }>(message);
      sql.add(
        `UPDATE canary_engines SET status = 'OFFLINE', last_heartbeat_at = $2, updated_at = $3 WHERE engine_id = $1`,
        [d.engineId, d.heartbeatAt, d.at],
      );
    },
    'canary.EngineSignedOn': (sql, message) => {
      const d = dataOf<{ engineId: string; heartbeatAt: string; at: string }>(message);
      sql.add(
        `UPDATE canary_engines SET status = 'ALIVE', last_heartbeat_at = $2, updated_at = $3 WHERE engine_id = $1`,
        [d.engineId, d.heartbeatAt, d.at],
      );
    },
    'canary.EngineResumeRequested': (sql, message) => {
      sql.add(`UPDATE canary_engines SET resume_requested_at = $2 WHERE engine_id = $1`, [
        aggregateIdOf(message),
        message.envelope.occurredAt,
      ]);
    },
    'canary.SummaryReported': (sql, message) => {
      const d = dataOf<{ from: string; to: string; probes: unknown[]; engines: unknown[] }>(message);
      sql.add(
        `INSERT INTO canary_summaries (event_id, from_at, to_at, probes, engines) VALUES ($1, $2, $3, $4, $5)`,
        [message.envelope.id, d.from, d.to, JSON.stringify(d.probes), JSON.stringify(d.engines)],
      );
    },
  }),
};
