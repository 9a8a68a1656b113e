import { Column, Entity, PrimaryColumn } from 'typeorm';
import { type Actor } from '@bifrost/contracts';
import { dataOf, perMessage, type Projection } from './projection';

/** Go-live (one row, id 1): the switch and the last refusal. */
@Entity({ name: 'control_go_live' })
export class ControlGoLiveRow {
  @PrimaryColumn({ type: 'smallint' }) id!: number;
  @Column({ type: 'boolean' }) enabled!: boolean;
  @Column({ type: 'text', nullable: true }) reason!: string | null;
  @Column({ name: 'changed_by', type: 'text', nullable: true }) changedBy!: string | null;
  @Column({ name: 'changed_at', type: 'timestamptz', nullable: true }) changedAt!: Date | null;
  @Column({ name: 'last_refused_at', type: 'timestamptz', nullable: true }) lastRefusedAt!: Date | null;
  @Column({ name: 'last_refused_items', type: 'jsonb', nullable: true }) lastRefusedItems!: string[] | null;
}

/** The latest report per go-live checklist item. */
@Entity({ name: 'control_checklist' })
export class ControlChecklistRow {
  @PrimaryColumn({ type: 'text' }) item!: string;
  @Column({ type: 'boolean' }) passed!: boolean;
  @Column({ name: 'reported_by', type: 'text' }) reportedBy!: string;
  @Column({ type: 'text', nullable: true }) evidence!: string | null;
  @Column({ name: 'recorded_at', type: 'timestamptz' }) recordedAt!: Date;
}

/**
 * Kill switches: kind `global` (scope `global`) or `engine` (scope the engine id). Keyed by both: an
 * engine may be named `global`, and its switch is not the global one.
 */
@Entity({ name: 'control_kill_switches' })
export class ControlKillSwitchRow {
  @PrimaryColumn({ type: 'text' }) kind!: 'global' | 'engine';
  @PrimaryColumn({ type: 'text' }) scope!: string;
  @Column({ type: 'boolean' }) engaged!: boolean;
  @Column({ type: 'text' }) mode!: string;
  @Column({ type: 'text' }) reason!: string;
  @Column({ type: 'text', nullable: true }) cause!: string | null;
  @Column({ name: 'engaged_by', type: 'text' }) engagedBy!: string;
  @Column({ name: 'engaged_at', type: 'timestamptz' }) engagedAt!: Date;
  @Column({ name: 'released_by', type: 'text', nullable: true }) releasedBy!: string | null;
  @Column({ name: 'released_at', type: 'timestamptz', nullable: true }) releasedAt!: Date | null;
}

@Entity({ name: 'control_execution_classes' })
export class ControlExecutionClassRow {
  @PrimaryColumn({ name: 'action_kind', type: 'text' }) actionKind!: string;
  @Column({ name: 'execution_class', type: 'text' }) executionClass!: string;
  @Column({ type: 'text' }) reason!: string;
  @Column({ name: 'set_by', type: 'text' }) setBy!: string;
  @Column({ name: 'set_at', type: 'timestamptz' }) setAt!: Date;
}

/** Per engine: verdict mode, pause and autonomy phase as the gate applies them. */
@Entity({ name: 'control_engines' })
export class ControlEngineRow {
  @PrimaryColumn({ name: 'engine_id', type: 'text' }) engineId!: string;
  @Column({ type: 'text' }) mode!: string;
  @Column({ name: 'mode_set_at', type: 'timestamptz', nullable: true }) modeSetAt!: Date | null;
  @Column({ type: 'boolean' }) paused!: boolean;
  @Column({ name: 'pause_reason', type: 'text', nullable: true }) pauseReason!: string | null;
  @Column({ name: 'pause_cause', type: 'text', nullable: true }) pauseCause!: string | null;
  @Column({ name: 'cooldown_until', type: 'timestamptz', nullable: true }) cooldownUntil!: Date | null;
  @Column({ name: 'paused_at', type: 'timestamptz', nullable: true }) pausedAt!: Date | null;
  @Column({ name: 'resumed_at', type: 'timestamptz', nullable: true }) resumedAt!: Date | null;
  @Column({ name: 'autonomy_phase', type: 'text', nullable: true }) autonomyPhase!: string | null;
  @Column({ type: 'jsonb', nullable: true }) whitelist!: string[] | null;
  @Column({ name: 'phase_applied_at', type: 'timestamptz', nullable: true }) phaseAppliedAt!: Date | null;
}

type WithActor = { actor: Actor; reason: string };

const upsertGoLive = `
  INSERT INTO control_go_live (id, enabled, reason, changed_by, changed_at) VALUES (1, $1, $2, $3, $4)
  ON CONFLICT (id) DO UPDATE SET enabled = EXCLUDED.enabled, reason = EXCLUDED.reason,
    changed_by = EXCLUDED.changed_by, changed_at = EXCLUDED.changed_at`;

/** A kill switch's key: the global one when the event names no engine. */
const killSwitchKey = (engineId: string | undefined) =>
  engineId === undefined ? ['global', 'global'] : ['engine', engineId];

// Columns an engine row starts with when its first event is not a mode change (fail safe: enforce).
const engineDefaults = `(engine_id, mode, paused) VALUES ($1, 'enforce', false)`;

/** The gate's control plane (go-live, checklist, kill switches, execution classes, engines). */
export const controlProjection: Projection = {
  name: 'control',
  tables: [
    'control_go_live',
    'control_checklist',
    'control_kill_switches',
    'control_execution_classes',
    'control_engines',
  ],
  entities: [
    ControlGoLiveRow,
    ControlChecklistRow,
    ControlKillSwitchRow,
    ControlExecutionClassRow,
    ControlEngineRow,
  ],
  ...perMessage({
    'gate.ChecklistFactRecorded': (sql, message) => {
      const d = dataOf<{
        item: string;
        passed: boolean;
        reportedBy: string;
        evidence?: string;
        recordedAt: string;
      }>(message);
      sql.add(
        `INSERT INTO control_checklist (item, passed, reported_by, evidence, recorded_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (item) DO UPDATE SET passed = EXCLUDED.passed, reported_by = EXCLUDED.reported_by,
           evidence = EXCLUDED.evidence, recorded_at = EXCLUDED.recorded_at`,
        [d.item, d.passed, d.reportedBy, d.evidence ?? null, d.recordedAt],
      );
    },
    'gate.GoLiveEnabled': (sql, message) => {
      const d = dataOf<WithActor & { enabledAt: string }>(message);
      sql.add(upsertGoLive, [true, d.reason, d.actor.id, d.enabledAt]);
    },
    'gate.GoLiveDisabled': (sql, message) => {
      const d = dataOf<WithActor & { disabledAt: string }>(message);
      sql.add(upsertGoLive, [false, d.reason, d.actor.id, d.disabledAt]);
    },
    'gate.GoLiveRefused': (sql, message) => {
      const d = dataOf<WithActor & { failingItems: string[]; refusedAt: string }>(message);
      sql.add(
        `INSERT INTO control_go_live (id, enabled, last_refused_at, last_refused_items) VALUES (1, false, $1, $2)
         ON CONFLICT (id) DO UPDATE SET last_refused_at = EXCLUDED.last_refused_at,
           last_refused_items = EXCLUDED.last_refused_items`,
        [d.refusedAt, JSON.stringify(d.failingItems)],
      );
    },
    'gate.KillSwitchEngaged': (sql, message) => {
      const d = dataOf<WithActor & { engineId?: string; mode: string; cause?: string; engagedAt: string }>(
        message,
      );
      sql.add(
        `INSERT INTO control_kill_switches (kind, scope, engaged, mode, reason, cause, engaged_by, engaged_at)
         VALUES ($1, $2, true, $3, $4, $5, $6, $7)
         ON CONFLICT (kind, scope) DO UPDATE SET engaged = true, mode = EXCLUDED.mode, reason = EXCLUDED.reason,
           cause = EXCLUDED.cause, engaged_by = EXCLUDED.engaged_by, engaged_at = EXCLUDED.engaged_at,
           released_by = NULL, released_at = NULL`,
        [...killSwitchKey(d.engineId), d.mode, d.reason, d.cause ?? null, d.actor.id, d.engagedAt],
      );
    },
    'gate.KillSwitchReleased': (sql, message) => {
      const d = dataOf<WithActor & { engineId?: string; releasedAt: string }>(message);
      sql.add(
        `UPDATE control_kill_switches SET engaged = false, released_by = $3, released_at = $4
         WHERE kind = $1 AND scope = $2`,
        [...killSwitchKey(d.engineId), d.actor.id, d.releasedAt],
      );
    },
    'gate.ExecutionClassSet': (sql, message) => {
      const d = dataOf<WithActor & { actionKind: string; executionClass: string; setAt: string }>(message);
      sql.add(
        `INSERT INTO control_execution_classes (action_kind, execution_class, reason, set_by, set_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (action_kind) DO UPDATE SET execution_class = EXCLUDED.execution_class,
           reason = EXCLUDED.reason, set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at`,
        [d.actionKind, d.executionClass, d.reason, d.actor.id, d.setAt],
      );
    },
    'gate.EngineModeSet': (sql, message) => {
      const d = dataOf<WithActor & { engineId: string; mode: string; setAt: string }>(message);
      sql.add(
        `INSERT INTO control_engines (engine_id, mode, mode_set_at, paused) VALUES ($1, $2, $3, false)
         ON CONFLICT (engine_id) DO UPDATE SET mode = EXCLUDED.mode, mode_set_at = EXCLUDED.mode_set_at`,
        [d.engineId, d.mode, d.setAt],
      );
    },
    'gate.EnginePaused': (sql, message) => {
      const d = dataOf<
        WithActor & { engineId: string; cause?: string; cooldownUntil?: string; pausedAt: string }
      >(message);
      sql.add(`INSERT INTO control_engines ${engineDefaults} ON CONFLICT (engine_id) DO NOTHING`, [
        d.engineId,
      ]);
      sql.add(
        `UPDATE control_engines SET paused = true, pause_reason = $2, pause_cause = $3, cooldown_until = $4,
           paused_at = $5 WHERE engine_id = $1`,
        [d.engineId, d.reason, d.cause ?? null, d.cooldownUntil ?? null, d.pausedAt],
      );
    },
    'gate.EngineResumed': (sql, message) => {
      const d = dataOf<WithActor & { engineId: string; resumedAt: string }>(message);
      sql.add(`INSERT INTO control_engines ${engineDefaults} ON CONFLICT (engine_id) DO NOTHING`, [
        d.engineId,
      ]);
      sql.add(
        `UPDATE control_engines SET paused = false, cooldown_until = NULL, resumed_at = $2 WHERE engine_id = $1`,
        [d.engineId, d.resumedAt],
      );
    },
    'gate.AutonomyPhaseApplied': (sql, message) => {
      const d = dataOf<{ engineId: string; phase: string; whitelist: string[]; appliedAt: string }>(message);
      sql.add(`INSERT INTO control_engines ${engineDefaults} ON CONFLICT (engine_id) DO NOTHING`, [
        d.engineId,
      ]);
      sql.add(
        `UPDATE control_engines SET autonomy_phase = $2, whitelist = $3, phase_applied_at = $4 WHERE engine_id = $1`,
        [d.engineId, d.phase, JSON.stringify(d.whitelist), d.appliedAt],
      );
    },
  }),
};
