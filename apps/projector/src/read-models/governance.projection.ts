import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { insertRows } from '../projector/bulk-writes';
import { type Statements } from '../projector/statements';
import { dataOf, perBatch, type ProjectedMessage, type Projection } from './projection';

type Actor = { kind: string; id: string };

/** Engines under governance: how they were enrolled and their phase ladder (the phase itself is in governance_phases). */
@Entity({ name: 'governance_engines' })
export class GovernanceEngineRow {
  @PrimaryColumn({ name: 'engine_id', type: 'text' }) engineId!: string;
  @Column({ name: 'enrolled_phase', type: 'text' }) enrolledPhase!: string;
  @Column({ name: 'phase_since', type: 'timestamptz' }) phaseSince!: Date;
  @Column({ type: 'jsonb' }) ladder!: unknown[];
  @Column({ name: 'enrolled_by', type: 'jsonb' }) enrolledBy!: Actor;
  @Column({ name: 'enrolled_at', type: 'timestamptz' }) enrolledAt!: Date;
  @Column({ name: 'ladder_updated_at', type: 'timestamptz', nullable: true }) ladderUpdatedAt!: Date | null;
}

/** Every command record the agent took into an engine's metrics (kept beyond its 30-day history). */
@Entity({ name: 'governance_commands' })
@Index(['engineId', 'recordedAt'])
export class GovernanceCommandRow {
  @PrimaryColumn({ name: 'engine_id', type: 'text' }) engineId!: string;
  @PrimaryColumn({ name: 'command_id', type: 'text' }) commandId!: string;
  @Column({ name: 'command_type', type: 'text' }) commandType!: string;
  @Column({ type: 'text' }) outcome!: string;
  @Column({ name: 'required_approval', type: 'boolean' }) requiredApproval!: boolean;
  @Column({ type: 'boolean', nullable: true }) approved!: boolean | null;
  @Column({ name: 'duration_ms', type: 'integer', nullable: true }) durationMs!: number | null;
  @Column({ name: 'recorded_at', type: 'timestamptz' }) recordedAt!: Date;
}

@Entity({ name: 'governance_incidents' })
@Index(['engineId', 'recordedAt'])
export class GovernanceIncidentRow {
  @PrimaryColumn({ name: 'engine_id', type: 'text' }) engineId!: string;
  @PrimaryColumn({ name: 'incident_id', type: 'text' }) incidentId!: string;
  @Column({ type: 'text' }) severity!: string;
  @Column({ name: 'command_type', type: 'text', nullable: true }) commandType!: string | null;
  @Column({ type: 'text' }) summary!: string;
  @Column({ name: 'recorded_at', type: 'timestamptz' }) recordedAt!: Date;
}

/** The latest attestation of each readiness checklist item per engine. */
@Entity({ name: 'governance_attestations' })
export class GovernanceAttestationRow {
  @PrimaryColumn({ name: 'engine_id', type: 'text' }) engineId!: string;
  @PrimaryColumn({ name: 'item_id', type: 'text' }) itemId!: string;
  @Column({ type: 'boolean' }) passed!: boolean;
  @Column({ type: 'text' }) evidence!: string;
  @Column({ name: 'attested_by', type: 'text' }) attestedBy!: string;
  @Column({ name: 'attested_at', type: 'timestamptz' }) attestedAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true }) expiresAt!: Date | null;
}

@Entity({ name: 'governance_breaker_rules' })
export class GovernanceBreakerRuleRow {
  @PrimaryColumn({ name: 'engine_id', type: 'text' }) engineId!: string;
  @PrimaryColumn({ name: 'rule_id', type: 'text' }) ruleId!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) condition!: string;
  @Column({ name: 'rule_window', type: 'text' }) ruleWindow!: string;
  @Column({ type: 'text' }) action!: string;
  @Column({ name: 'command_type', type: 'text', nullable: true }) commandType!: string | null;
  @Column({ type: 'boolean' }) enabled!: boolean;
  @Column({ name: 'updated_by', type: 'jsonb', nullable: true }) updatedBy!: Actor | null;
  @Column({ name: 'update_reason', type: 'text', nullable: true }) updateReason!: string | null;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** Breaker events: open until an operator resolves them. */
@Entity({ name: 'governance_breaker_events' })
@Index(['engineId', 'trippedAt'])
export class GovernanceBreakerEventRow {
  @PrimaryColumn({ name: 'engine_id', type: 'text' }) engineId!: string;
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'rule_id', type: 'text' }) ruleId!: string;
  @Column({ name: 'rule_name', type: 'text' }) ruleName!: string;
  @Column({ type: 'text' }) condition!: string;
  @Column({ name: 'rule_window', type: 'text' }) ruleWindow!: string;
  @Column({ type: 'text' }) action!: string;
  @Column({ name: 'command_type', type: 'text', nullable: true }) commandType!: string | null;
  @Column({ type: 'jsonb' }) observed!: Record<string, unknown>;
  @Column({ type: 'text' }) explanation!: string;
  @Column({ name: 'tripped_at', type: 'timestamptz' }) trippedAt!: Date;
  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true }) resolvedAt!: Date | null;
  @Column({ name: 'resolved_by', type: 'jsonb', nullable: true }) resolvedBy!: Actor | null;
  @Column({ name: 'resolution_note', type: 'text', nullable: true }) resolutionNote!: string | null;
}

/** Command types a breaker took out of the effective whitelist, until its event is resolved. */
@Entity({ name: 'governance_paused_commands' })
export class GovernancePausedCommandRow {
  @PrimaryColumn({ name: 'engine_id', type: 'text' }) engineId!: string;
  @PrimaryColumn({ name: 'command_type', type: 'text' }) commandType!: string;
  @Column({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'paused_at', type: 'timestamptz' }) pausedAt!: Date;
}

/** Governance cycle reports (collect → assess → check breakers → decide → report). */
@Entity({ name: 'governance_reports' })
@Index(['engineId', 'ranAt'])
export class GovernanceReportRow {
  @PrimaryColumn({ name: 'engine_id', type: 'text' }) engineId!: string;
  @PrimaryColumn({ name: 'report_id', type: 'text' }) reportId!: string;
  @Column({ name: 'cycle_trigger', type: 'text' }) cycleTrigger!: string;
  @Column({ name: 'ran_at', type: 'timestamptz' }) ranAt!: Date;
  @Column({ type: 'text' }) phase!: string;
  @Column({ name: 'readiness_score', type: 'integer' }) readinessScore!: number;
  @Column({ name: 'readiness_status', type: 'text' }) readinessStatus!: string;
  @Column({ type: 'boolean' }) proposed!: boolean;
  @Column({ name: 'proposal_id', type: 'text', nullable: true }) proposalId!: string | null;
  @Column({ type: 'jsonb' }) report!: Record<string, unknown>;
}

/** Expansion proposals and where their approval stands. */
@Entity({ name: 'governance_proposals' })
@Index(['engineId', 'createdAt'])
export class GovernanceProposalRow {
  @PrimaryColumn({ name: 'engine_id', type: 'text' }) engineId!: string;
  @PrimaryColumn({ name: 'proposal_id', type: 'text' }) proposalId!: string;
  @Column({ name: 'from_phase', type: 'text' }) fromPhase!: string;
  @Column({ name: 'target_phase', type: 'text' }) targetPhase!: string;
  @Column({ type: 'text' }) status!: string;
  @Column({ type: 'jsonb' }) proposal!: Record<string, unknown>;
  @Column({ type: 'jsonb' }) approvals!: unknown[];
  @Column({ type: 'jsonb' }) outstanding!: string[];
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true }) closedAt!: Date | null;
  @Column({ name: 'closed_by', type: 'jsonb', nullable: true }) closedBy!: Actor | null;
  @Column({ name: 'close_reason', type: 'text', nullable: true }) closeReason!: string | null;
}

/** Who may sign proposals as which approver role. */
@Entity({ name: 'governance_approvers' })
export class GovernanceApproverRow {
  @PrimaryColumn({ name: 'principal_id', type: 'text' }) principalId!: string;
  @Column({ type: 'jsonb' }) roles!: string[];
  @Column({ name: 'updated_by', type: 'jsonb' }) updatedBy!: Actor;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

interface Rule {
  ruleId: string;
  name: string;
  condition: string;
  window: string;
  action: string;
  commandType?: string;
  enabled: boolean;
}

const RULE_UPSERT = `INSERT INTO governance_breaker_rules
    (engine_id, rule_id, name, condition, rule_window, action, command_type, enabled, updated_by, update_reason, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
  ON CONFLICT (engine_id, rule_id) DO UPDATE SET name = EXCLUDED.name, condition = EXCLUDED.condition,
    rule_window = EXCLUDED.rule_window, action = EXCLUDED.action, command_type = EXCLUDED.command_type,
    enabled = EXCLUDED.enabled, updated_by = EXCLUDED.updated_by, update_reason = EXCLUDED.update_reason,
    updated_at = EXCLUDED.updated_at`;

const ruleParams = (engineId: string, r: Rule, by: Actor | null, reason: string | null, at: string) => [
  engineId,
  r.ruleId,
  r.name,
  r.condition,
  r.window,
  r.action,
  r.commandType ?? null,
  r.enabled,
  by === null ? null : JSON.stringify(by),
  reason,
  at,
];

// Command and incident records arrive with every command an engine runs: written set-wise per batch.
async function recordCommands(
  manager: Parameters<Projection['apply']>[0],
  messages: readonly ProjectedMessage[],
) {
  const rows = messages.map((m) => {
    const d = dataOf<{
      engineId: string;
      record: {
        commandId: string;
        commandType: string;
        at: string;
        outcome: string;
        requiredApproval: boolean;
        approved?: boolean;
        durationMs?: number;
      };
    }>(m);
    const r = d.record;
    return {
      engine_id: d.engineId,
      command_id: r.commandId,
      command_type: r.commandType,
      outcome: r.outcome,
      required_approval: r.requiredApproval,
      approved: r.approved ?? null,
      duration_ms: r.durationMs ?? null,
      recorded_at: r.at,
    };
  });
  await insertRows(manager, 'governance_commands', rows, 'ON CONFLICT (engine_id, command_id) DO NOTHING');
}

async function recordIncidents(
  manager: Parameters<Projection['apply']>[0],
  messages: readonly ProjectedMessage[],
) {
  const rows = messages.map((m) => {
    const d = dataOf<{
      engineId: string;
      record: { incidentId: string; at: string; severity: string; commandType?: string; summary: string };
    }>(m);
    const r = d.record;
    return {
      engine_id: d.engineId,
      incident_id: r.incidentId,
      severity: r.severity,
      command_type: r.commandType ?? null,
      summary: r.summary,
      recorded_at: r.at,
    };
  });
  await insertRows(manager, 'governance_incidents', rows, 'ON CONFLICT (engine_id, incident_id) DO NOTHING');
}

const closeProposal = (status: 'APPROVED' | 'REJECTED' | 'EXPIRED') =>
  function (sql: Statements, message: ProjectedMessage) {
    const d = dataOf<{ engineId: string; proposalId: string; at: string; by?: Actor; reason?: string }>(
      message,
    );
    sql.add(
      `UPDATE governance_proposals SET status = $3, closed_at = $4, closed_by = $5, close_reason = $6
       WHERE engine_id = $1 AND proposal_id = $2`,
      [d.engineId, d.proposalId, status, d.at, d.by ? JSON.stringify(d.by) : null, d.reason ?? null],
    );
  };

/** The governance agent's engines, metrics records, rules, breaker events, reports, proposals and approvers. */
export const governanceProjection: Projection = {
  name: 'governance',
  tables: [
    'governance_engines',
    'governance_commands',
    'governance_incidents',
    'governance_attestations',
    'governance_breaker_rules',
    'governance_breaker_events',
    'governance_paused_commands',
    'governance_reports',
    'governance_proposals',
    'governance_approvers',
  ],
  entities: [
    GovernanceEngineRow,
    GovernanceCommandRow,
    GovernanceIncidentRow,
    GovernanceAttestationRow,
    GovernanceBreakerRuleRow,
    GovernanceBreakerEventRow,
    GovernancePausedCommandRow,
    GovernanceReportRow,
    GovernanceProposalRow,
    GovernanceApproverRow,
  ],
  ...perBatch(
    {
      'governance.CommandRecorded': recordCommands,
      'governance.IncidentRecorded': recordIncidents,
    },
    {
      'governance.EngineEnrolled': (sql, message) => {
        const d = dataOf<{
          engineId: string;
          phase: string;
          phaseSince: string;
          ladder: unknown[];
          rules: Rule[];
          actor: Actor;
          at: string;
        }>(message);
        sql.add(
          `INSERT INTO governance_engines (engine_id, enrolled_phase, phase_since, ladder, enrolled_by, enrolled_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (engine_id) DO UPDATE SET enrolled_phase = EXCLUDED.enrolled_phase,
             phase_since = EXCLUDED.phase_since, ladder = EXCLUDED.ladder, enrolled_by = EXCLUDED.enrolled_by,
             enrolled_at = EXCLUDED.enrolled_at`,
          [d.engineId, d.phase, d.phaseSince, JSON.stringify(d.ladder), JSON.stringify(d.actor), d.at],
        );
        for (const rule of d.rules) sql.add(RULE_UPSERT, ruleParams(d.engineId, rule, null, null, d.at));
      },
      'governance.LadderConfigured': (sql, message) => {
        const d = dataOf<{ engineId: string; ladder: unknown[]; at: string }>(message);
        sql.add(`UPDATE governance_engines SET ladder = $2, ladder_updated_at = $3 WHERE engine_id = $1`, [
          d.engineId,
          JSON.stringify(d.ladder),
          d.at,
        ]);
      },
      'governance.AttestationRecorded': (sql, message) => {
        const d = dataOf<{
          engineId: string;
          attestation: {
            itemId: string;
            passed: boolean;
            evidence: string;
            by: string;
            at: string;
            expiresAt?: string;
          };
        }>(message);
        const a = d.attestation;
        sql.add(
          `INSERT INTO governance_attestations (engine_id, item_id, passed, evidence, attested_by, attested_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (engine_id, item_id) DO UPDATE SET passed = EXCLUDED.passed, evidence = EXCLUDED.evidence,
             attested_by = EXCLUDED.attested_by, attested_at = EXCLUDED.attested_at, expires_at = EXCLUDED.expires_at`,
          [d.engineId, a.itemId, a.passed, a.evidence, a.by, a.at, a.expiresAt ?? null],
        );
      },
      'governance.BreakerRuleUpdated': (sql, message) => {
        const d = dataOf<{ engineId: string; rule: Rule; actor: Actor; reason: string; at: string }>(message);
        sql.add(RULE_UPSERT, ruleParams(d.engineId, d.rule, d.actor, d.reason, d.at));
      },
      'governance.BreakerTripped': (sql, message) => {
        const d = dataOf<{
          engineId: string;
          breakerEvent: Rule & {
            eventId: string;
            ruleName: string;
            observed: Record<string, unknown>;
            explanation: string;
            trippedAt: string;
          };
        }>(message);
        const e = d.breakerEvent;
        sql.add(
          `INSERT INTO governance_breaker_events (engine_id, event_id, rule_id, rule_name, condition, rule_window,
             action, command_type, observed, explanation, tripped_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (engine_id, event_id) DO NOTHING`,
          [
            d.engineId,
            e.eventId,
            e.ruleId,
            e.ruleName,
            e.condition,
            e.window,
            e.action,
            e.commandType ?? null,
            JSON.stringify(e.observed),
            e.explanation,
            e.trippedAt,
          ],
        );
      },
      'governance.BreakerResolved': (sql, message) => {
        const d = dataOf<{
          engineId: string;
          eventId: string;
          actor: Actor;
          note: string;
          resolvedAt: string;
        }>(message);
        sql.add(
          `UPDATE governance_breaker_events SET resolved_at = $3, resolved_by = $4, resolution_note = $5
           WHERE engine_id = $1 AND event_id = $2`,
          [d.engineId, d.eventId, d.resolvedAt, JSON.stringify(d.actor), d.note],
        );
      },
      'governance.CommandTypePaused': (sql, message) => {
        const d = dataOf<{ engineId: string; commandType: string; eventId: string; at: string }>(message);
        sql.add(
          `INSERT INTO governance_paused_commands (engine_id, command_type, event_id, paused_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (engine_id, command_type) DO UPDATE SET event_id = EXCLUDED.event_id, paused_at = EXCLUDED.paused_at`,
          [d.engineId, d.commandType, d.eventId, d.at],
        );
      },
      'governance.CommandTypeResumed': (sql, message) => {
        const d = dataOf<{ engineId: string; commandType: string }>(message);
        sql.add(`DELETE FROM governance_paused_commands WHERE engine_id = $1 AND command_type = $2`, [
          d.engineId,
          d.commandType,
        ]);
      },
      'governance.CycleCompleted': (sql, message) => {
        const d = dataOf<{
          engineId: string;
          report: {
            reportId: string;
            trigger: string;
            ranAt: string;
            phase: string;
            readiness: { score: number; status: string };
            decision: { proposed: boolean; proposalId: string | null };
          };
        }>(message);
        const r = d.report;
        sql.add(
          `INSERT INTO governance_reports (engine_id, report_id, cycle_trigger, ran_at, phase, readiness_score,
             readiness_status, proposed, proposal_id, report)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (engine_id, report_id) DO NOTHING`,
          [
            d.engineId,
            r.reportId,
            r.trigger,
            r.ranAt,
            r.phase,
            r.readiness.score,
            r.readiness.status,
            r.decision.proposed,
            r.decision.proposalId,
            JSON.stringify(r),
          ],
        );
      },
      'governance.ProposalCreated': (sql, message) => {
        const d = dataOf<{
          engineId: string;
          proposal: {
            proposalId: string;
            fromPhase: string;
            targetPhase: string;
            requiredApprovals: string[];
            createdAt: string;
            expiresAt: string;
          };
        }>(message);
        const p = d.proposal;
        sql.add(
          `INSERT INTO governance_proposals (engine_id, proposal_id, from_phase, target_phase, status, proposal,
             approvals, outstanding, created_at, expires_at)
           VALUES ($1, $2, $3, $4, 'PENDING', $5, '[]', $6, $7, $8) ON CONFLICT (engine_id, proposal_id) DO NOTHING`,
          [
            d.engineId,
            p.proposalId,
            p.fromPhase,
            p.targetPhase,
            JSON.stringify(p),
            JSON.stringify(p.requiredApprovals),
            p.createdAt,
            p.expiresAt,
          ],
        );
      },
      'governance.ProposalApprovalRecorded': (sql, message) => {
        const d = dataOf<{
          engineId: string;
          proposalId: string;
          approver: Actor;
          role: string;
          note?: string;
          outstanding: string[];
          at: string;
        }>(message);
        const approval = {
          principalId: d.approver.id,
          role: d.role,
          at: d.at,
          ...(d.note ? { note: d.note } : {}),
        };
        sql.add(
          `UPDATE governance_proposals SET approvals = approvals || $3::jsonb, outstanding = $4
           WHERE engine_id = $1 AND proposal_id = $2`,
          [d.engineId, d.proposalId, JSON.stringify([approval]), JSON.stringify(d.outstanding)],
        );
      },
      'governance.ProposalApproved': closeProposal('APPROVED'),
      'governance.ProposalRejected': closeProposal('REJECTED'),
      'governance.ProposalExpired': closeProposal('EXPIRED'),
      'governance.ApproverRolesAssigned': (sql, message) => {
        const d = dataOf<{ principalId: string; roles: string[]; actor: Actor; at: string }>(message);
        sql.add(
          `INSERT INTO governance_approvers (principal_id, roles, updated_by, updated_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (principal_id) DO UPDATE SET roles = EXCLUDED.roles, updated_by = EXCLUDED.updated_by,
             updated_at = EXCLUDED.updated_at`,
          [d.principalId, JSON.stringify(d.roles), JSON.stringify(d.actor), d.at],
        );
      },
    },
  ),
};
