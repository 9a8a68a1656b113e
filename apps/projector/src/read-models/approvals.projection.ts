import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { dataOf, perMessage, strategyKeyOf, type Projection } from './projection';

/** Approval requests (REQUIRE_APPROVAL) and how they were decided. */
@Entity({ name: 'approvals' })
@Index(['status', 'requestedAt'])
@Index(['engineId', 'strategyId', 'requestedAt'])
@Index(['requestedAt', 'approvalId'])
export class ApprovalRow {
  @PrimaryColumn({ name: 'approval_id', type: 'text' }) approvalId!: string;
  @Column({ name: 'engine_id', type: 'text' }) engineId!: string;
  @Column({ name: 'strategy_id', type: 'text' }) strategyId!: string;
  @Column({ type: 'text' }) status!: 'pending' | 'granted' | 'rejected';
  @Column({ name: 'action_hash', type: 'text' }) actionHash!: string;
  @Column({ type: 'jsonb' }) action!: Record<string, unknown>;
  @Column({ name: 'requested_by', type: 'text' }) requestedBy!: string;
  @Column({ name: 'requested_at', type: 'timestamptz' }) requestedAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'decided_by', type: 'text', nullable: true }) decidedBy!: string | null;
  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true }) decidedAt!: Date | null;
  @Column({ name: 'token_id', type: 'text', nullable: true }) tokenId!: string | null;
  @Column({ name: 'token_expires_at', type: 'timestamptz', nullable: true }) tokenExpiresAt!: Date | null;
  @Column({ name: 'reject_reason', type: 'text', nullable: true }) rejectReason!: string | null;
}

/** Gate approvals; `pending` past `expires_at` is expired for a reader (no clock here). */
export const approvalsProjection: Projection = {
  name: 'approvals',
  tables: ['approvals'],
  entities: [ApprovalRow],
  ...perMessage({
    'gate.ApprovalRequested': (sql, message) => {
      const d = dataOf<{
        approvalId: string;
        actionHash: string;
        action: Record<string, unknown>;
        requestedBy: string;
        expiresAt: string;
        requestedAt: string;
      }>(message);
      const { engineId, strategyId } = strategyKeyOf(message);
      sql.add(
        `INSERT INTO approvals (approval_id, engine_id, strategy_id, status, action_hash, action, requested_by,
           requested_at, expires_at) VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8)`,
        [
          d.approvalId,
          engineId,
          strategyId,
          d.actionHash,
          JSON.stringify(d.action),
          d.requestedBy,
          d.requestedAt,
          d.expiresAt,
        ],
      );
    },
    'gate.ApprovalGranted': (sql, message) => {
      const d = dataOf<{
        approvalId: string;
        approver: string;
        tokenId: string;
        tokenExpiresAt: string;
        grantedAt: string;
      }>(message);
      sql.add(
        `UPDATE approvals SET status = 'granted', decided_by = $2, decided_at = $3, token_id = $4, token_expires_at = $5
         WHERE approval_id = $1`,
        [d.approvalId, d.approver, d.grantedAt, d.tokenId, d.tokenExpiresAt],
      );
    },
    'gate.ApprovalRejected': (sql, message) => {
      const d = dataOf<{ approvalId: string; rejectedBy: string; reason: string | null; rejectedAt: string }>(
        message,
      );
      sql.add(
        `UPDATE approvals SET status = 'rejected', decided_by = $2, decided_at = $3, reject_reason = $4
         WHERE approval_id = $1`,
        [d.approvalId, d.rejectedBy, d.rejectedAt, d.reason],
      );
    },
  }),
};
