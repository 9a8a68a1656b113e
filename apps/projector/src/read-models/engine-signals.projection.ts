import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { aggregateIdOf, dataOf, perMessage, type Projection } from './projection';

/** Requests the canary made of the gate (kill switch, engine pause), newest last. */
@Entity({ name: 'canary_requests' })
@Index(['requestedAt'])
export class CanaryRequestRow {
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ type: 'text' }) kind!: 'kill-switch' | 'engine-pause';
  @Column({ name: 'probe_name', type: 'text', nullable: true }) probeName!: string | null;
  @Column({ name: 'engine_id', type: 'text', nullable: true }) engineId!: string | null;
  @Column({ type: 'text', nullable: true }) mode!: string | null;
  @Column({ type: 'text' }) reason!: string;
  @Column({ name: 'consecutive_failures', type: 'integer', nullable: true }) consecutiveFailures!:
    | number
    | null;
  @Column({ name: 'requested_at', type: 'timestamptz' }) requestedAt!: Date;
}

/** The governance agent's current autonomy phase per engine (what it decided; the gate's copy is in control_engines). */
@Entity({ name: 'governance_phases' })
export class GovernancePhaseRow {
  @PrimaryColumn({ name: 'engine_id', type: 'text' }) engineId!: string;
  @Column({ type: 'text' }) phase!: string;
  @Column({ type: 'jsonb' }) whitelist!: string[];
  @Column({ type: 'text' }) reason!: string;
  @Column({ name: 'changed_at', type: 'timestamptz' }) changedAt!: Date;
}

/** Canary and governance-agent events until their own services add richer read models. */
export const engineSignalsProjection: Projection = {
  name: 'engine-signals',
  tables: ['canary_requests', 'governance_phases'],
  entities: [CanaryRequestRow, GovernancePhaseRow],
  ...perMessage({
    'canary.KillSwitchRequested': (sql, message) => {
      const d = dataOf<{
        probeName: string;
        engineId?: string;
        mode: string;
        reason: string;
        consecutiveFailures: number;
      }>(message);
      sql.add(
        `INSERT INTO canary_requests (event_id, kind, probe_name, engine_id, mode, reason, consecutive_failures, requested_at)
         VALUES ($1, 'kill-switch', $2, $3, $4, $5, $6, $7)`,
        [
          message.envelope.id,
          d.probeName,
          d.engineId ?? null,
          d.mode,
          d.reason,
          d.consecutiveFailures,
          message.envelope.occurredAt,
        ],
      );
    },
    'canary.EnginePauseRequested': (sql, message) => {
      const d = dataOf<{ engineId: string; reason: string; probeName?: string }>(message);
      sql.add(
        `INSERT INTO canary_requests (event_id, kind, probe_name, engine_id, reason, requested_at)
         VALUES ($1, 'engine-pause', $2, $3, $4, $5)`,
        [message.envelope.id, d.probeName ?? null, d.engineId, d.reason, message.envelope.occurredAt],
      );
    },
    'governance.PhaseChanged': (sql, message) => {
      const d = dataOf<{ engineId: string; phase: string; whitelist: string[]; reason: string }>(message);
      sql.add(
        `INSERT INTO governance_phases (engine_id, phase, whitelist, reason, changed_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (engine_id) DO UPDATE SET phase = EXCLUDED.phase, whitelist = EXCLUDED.whitelist,
           reason = EXCLUDED.reason, changed_at = EXCLUDED.changed_at`,
        [
          d.engineId ?? aggregateIdOf(message),
          d.phase,
          JSON.stringify(d.whitelist),
          d.reason,
          message.envelope.occurredAt,
        ],
      );
    },
  }),
};
