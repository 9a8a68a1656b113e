import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { type Check, type GateCheckReply, type GateCheckRequest } from '@bifrost/contracts';
import { insertRows } from '../projector/bulk-writes';
import { dataOf, type Projection } from './projection';

/** Every gate verdict, for the decision queries of DESIGN §7 (time range, engine, strategy, action, risk). */
@Entity({ name: 'gate_decisions' })
@Index(['decidedAt'])
@Index(['engineId', 'decidedAt'])
@Index(['strategyId', 'decidedAt'])
@Index(['action', 'decidedAt'])
@Index(['riskLevel', 'decidedAt'])
export class GateDecisionRow {
  @PrimaryColumn({ name: 'decision_id', type: 'text' }) decisionId!: string;
  @Column({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'decided_at', type: 'timestamptz' }) decidedAt!: Date;
  @Column({ name: 'engine_id', type: 'text' }) engineId!: string;
  @Column({ name: 'strategy_id', type: 'text' }) strategyId!: string;
  @Column({ type: 'text' }) action!: string;
  @Column({ name: 'risk_level', type: 'text' }) riskLevel!: string;
  @Column({ type: 'text' }) mode!: string;
  @Column({ name: 'size_multiplier', type: 'double precision' }) sizeMultiplier!: number;
  @Column({ name: 'action_kind', type: 'text' }) actionKind!: string;
  @Column({ name: 'action_hash', type: 'text' }) actionHash!: string;
  @Column({ name: 'policy_revision', type: 'text' }) policyRevision!: string;
  @Column({ name: 'approval_id', type: 'text', nullable: true }) approvalId!: string | null;
  @Column({ name: 'request_id', type: 'text', nullable: true }) requestId!: string | null;
  @Column({ name: 'latency_micros', type: 'integer', nullable: true }) latencyMicros!: number | null;
  @Column({ type: 'json' }) verdict!: GateCheckReply;
  @Column({ type: 'json' }) request!: GateCheckRequest;
  /** The checks that shaped the verdict: every check whose outcome is not ALLOW. */
  @Column({ type: 'json' }) reasons!: Check[];
  @Column({ name: 'stream_seq', type: 'bigint' }) streamSeq!: number;
}

interface VerdictRendered {
  request: GateCheckRequest;
  verdict: GateCheckReply;
  latencyMicros?: number;
}

/** Gate decision records, written with one statement per batch (the hot path). */
export const gateDecisionsProjection: Projection = {
  name: 'gate-decisions',
  handles: ['gate.VerdictRendered'],
  tables: ['gate_decisions'],
  entities: [GateDecisionRow],
  async apply(manager, messages) {
    if (messages.length === 0) return;
    // A decision id recorded twice (a re-published record) keeps its first row.
    const rows = messages.map((message) => {
      const d = dataOf<VerdictRendered>(message);
      return {
        decision_id: d.verdict.decisionId,
        event_id: message.envelope.id,
        decided_at: d.verdict.decidedAt,
        engine_id: d.verdict.engineId,
        strategy_id: d.verdict.strategyId,
        action: d.verdict.action,
        risk_level: d.verdict.riskLevel,
        mode: d.verdict.mode,
        size_multiplier: d.verdict.sizeMultiplier,
        action_kind: d.request.action.kind,
        action_hash: d.verdict.actionHash,
        policy_revision: d.verdict.policyRevision,
        approval_id: d.verdict.approvalId ?? null,
        request_id: d.request.requestId ?? null,
        latency_micros: d.latencyMicros ?? null,
        verdict: d.verdict,
        request: d.request,
        reasons: d.verdict.checks.filter((check) => check.outcome !== 'ALLOW'),
        stream_seq: message.streamSeq,
      };
    });
    await insertRows(manager, 'gate_decisions', rows, 'ON CONFLICT (decision_id) DO NOTHING');
  },
};
