import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { type GateCheckReply, type GateCheckRequest } from '@bifrost/contracts';
import { safeIntegerTransformer } from '@bifrost/persistence';
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
  @Column({ type: 'jsonb' }) verdict!: GateCheckReply;
  @Column({ type: 'jsonb' }) request!: GateCheckRequest;
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
    const rows = messages.map((message) => ({ message, d: dataOf<VerdictRendered>(message) }));
    // A decision id recorded twice (a re-published record) keeps its first row.
    await manager.query(
      `INSERT INTO gate_decisions (decision_id, event_id, decided_at, engine_id, strategy_id, action, risk_level, mode,
         size_multiplier, action_kind, action_hash, policy_revision, approval_id, request_id, latency_micros, verdict,
         request, stream_seq)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[],
         $8::text[], $9::double precision[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
         $15::integer[], $16::jsonb[], $17::jsonb[], $18::bigint[])
       ON CONFLICT (decision_id) DO NOTHING`,
      [
        rows.map(({ d }) => d.verdict.decisionId),
        rows.map(({ message }) => message.envelope.id),
        rows.map(({ d }) => d.verdict.decidedAt),
        rows.map(({ d }) => d.verdict.engineId),
        rows.map(({ d }) => d.verdict.strategyId),
        rows.map(({ d }) => d.verdict.action),
        rows.map(({ d }) => d.verdict.riskLevel),
        rows.map(({ d }) => d.verdict.mode),
        rows.map(({ d }) => d.verdict.sizeMultiplier),
        rows.map(({ d }) => d.request.action.kind),
        rows.map(({ d }) => d.verdict.actionHash),
        rows.map(({ d }) => d.verdict.policyRevision),
        rows.map(({ d }) => d.verdict.approvalId ?? null),
        rows.map(({ d }) => d.request.requestId ?? null),
        rows.map(({ d }) => d.latencyMicros ?? null),
        rows.map(({ d }) => JSON.stringify(d.verdict)),
        rows.map(({ d }) => JSON.stringify(d.request)),
        rows.map(({ message }) => message.streamSeq),
      ],
    );
  },
};
