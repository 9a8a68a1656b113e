import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { type Check, type GateCheckReply, type GateCheckRequest } from '@bifrost/contracts';
import { safeIntegerTransformer } from '@bifrost/persistence';
import { insertValues } from '../projector/insert-values';
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
  @Column({ name: 'stream_seq', type: 'bigint', transformer: safeIntegerTransformer }) streamSeq!: number;
}

interface VerdictRendered {
  request: GateCheckRequest;
  verdict: GateCheckReply;
  latencyMicros?: number;
}

/** Gate decision records, written with one multi-row statement per batch (the hot path). */
export const gateDecisionsProjection: Projection = {
  name: 'gate-decisions',
  handles: ['gate.VerdictRendered'],
  tables: ['gate_decisions'],
  entities: [GateDecisionRow],
  async apply(manager, messages) {
    if (messages.length === 0) return;
    // A decision id recorded twice (a re-published record) keeps its first row.
    await insertValues(
      manager,
      'gate_decisions',
      [
        'decision_id',
        'event_id',
        'decided_at::timestamptz',
        'engine_id',
        'strategy_id',
        'action',
        'risk_level',
        'mode',
        'size_multiplier::double precision',
        'action_kind',
        'action_hash',
        'policy_revision',
        'approval_id',
        'request_id',
        'latency_micros::integer',
        'verdict::json',
        'request::json',
        'reasons::json',
        'stream_seq::bigint',
      ],
      messages.map((message) => {
        const d = dataOf<VerdictRendered>(message);
        return [
          d.verdict.decisionId,
          message.envelope.id,
          d.verdict.decidedAt,
          d.verdict.engineId,
          d.verdict.strategyId,
          d.verdict.action,
          d.verdict.riskLevel,
          d.verdict.mode,
          d.verdict.sizeMultiplier,
          d.request.action.kind,
          d.verdict.actionHash,
          d.verdict.policyRevision,
          d.verdict.approvalId ?? null,
          d.request.requestId ?? null,
          d.latencyMicros ?? null,
          JSON.stringify(d.verdict),
          JSON.stringify(d.request),
          JSON.stringify(d.verdict.checks.filter((check) => check.outcome !== 'ALLOW')),
          message.streamSeq,
        ];
      }),
      'ON CONFLICT (decision_id) DO NOTHING',
    );
  },
};
