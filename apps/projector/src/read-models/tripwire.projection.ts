import { Column, Entity, PrimaryColumn } from 'typeorm';
import { insertRows } from '../projector/bulk-writes';
import { dataOf, perBatch, type Projection } from './projection';

/** Tripwire regression policies and their settings (firings are in tripwire_triggers). */
@Entity({ name: 'tripwire_policies' })
export class TripwirePolicyRow {
  @PrimaryColumn({ name: 'policy_id', type: 'text' }) policyId!: string;
  @Column({ type: 'jsonb' }) config!: Record<string, unknown>;
  @Column({ type: 'boolean' }) enabled!: boolean;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** Per policy and engine: how many KPIs entered its windows, and when it was last reset. */
@Entity({ name: 'tripwire_engines' })
export class TripwireEngineRow {
  @PrimaryColumn({ name: 'policy_id', type: 'text' }) policyId!: string;
  @PrimaryColumn({ name: 'engine_id', type: 'text' }) engineId!: string;
  @Column({ type: 'bigint' }) kpis!: string;
  @Column({ name: 'last_kpi_at', type: 'timestamptz', nullable: true }) lastKpiAt!: Date | null;
  @Column({ name: 'reset_at', type: 'timestamptz', nullable: true }) resetAt!: Date | null;
}

type Toggle = { policyId: string; at: string };

/** The tripwire's policies and per-engine window activity. */
export const tripwireProjection: Projection = {
  name: 'tripwire',
  tables: ['tripwire_policies', 'tripwire_engines'],
  entities: [TripwirePolicyRow, TripwireEngineRow],
  ...perBatch(
    {
      // The hot type (one per KPI): counted per (policy, engine) and written in one statement. It
      // touches only kpis and last_kpi_at, which no other type writes, so batching it commutes.
      'tripwire.KpiRecorded': async (manager, messages) => {
        const counts = new Map<
          string,
          { policy_id: string; engine_id: string; kpis: number; last_kpi_at: string }
        >();
        for (const message of messages) {
          const d = dataOf<{ policyId: string; engineId: string; at: string }>(message);
          const key = JSON.stringify([d.policyId, d.engineId]);
          const entry = counts.get(key);
          if (entry) {
            entry.kpis += 1;
            if (d.at > entry.last_kpi_at) entry.last_kpi_at = d.at;
          } else
            counts.set(key, { policy_id: d.policyId, engine_id: d.engineId, kpis: 1, last_kpi_at: d.at });
        }
        await insertRows(
          manager,
          'tripwire_engines',
          [...counts.values()],
          `ON CONFLICT (policy_id, engine_id) DO UPDATE SET kpis = tripwire_engines.kpis + EXCLUDED.kpis,
             last_kpi_at = GREATEST(tripwire_engines.last_kpi_at, EXCLUDED.last_kpi_at)`,
        );
      },
    },
    {
      'tripwire.PolicyDefined': (sql, message) => {
        const d = dataOf<{ policyId: string; policy: { enabled: boolean }; at: string }>(message);
        sql.add(
          `INSERT INTO tripwire_policies (policy_id, config, enabled, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (policy_id) DO UPDATE SET config = EXCLUDED.config, enabled = EXCLUDED.enabled,
           updated_at = EXCLUDED.updated_at`,
          [d.policyId, JSON.stringify(d.policy), d.policy.enabled, d.at],
        );
      },
      'tripwire.PolicyEnabled': (sql, message) => {
        const d = dataOf<Toggle>(message);
        sql.add(`UPDATE tripwire_policies SET enabled = true, updated_at = $2 WHERE policy_id = $1`, [
          d.policyId,
          d.at,
        ]);
      },
      'tripwire.PolicyDisabled': (sql, message) => {
        const d = dataOf<Toggle>(message);
        sql.add(`UPDATE tripwire_policies SET enabled = false, updated_at = $2 WHERE policy_id = $1`, [
          d.policyId,
          d.at,
        ]);
      },
      'tripwire.TripwireReset': (sql, message) => {
        const d = dataOf<{ policyId: string; engineId: string; at: string }>(message);
        sql.add(
          `INSERT INTO tripwire_engines (policy_id, engine_id, kpis, reset_at) VALUES ($1, $2, 0, $3)
         ON CONFLICT (policy_id, engine_id) DO UPDATE SET reset_at = EXCLUDED.reset_at`,
          [d.policyId, d.engineId, d.at],
        );
      },
    },
  ),
};
