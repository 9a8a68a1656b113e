import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { type AuditChainVerifiedData } from '../audit/audit-verification';
import { dataOf, perMessage, type Projection } from './projection';

/** Every re-verification of the audit log the writer reported (system.AuditChainVerified). */
@Entity({ name: 'audit_verifications' })
@Index(['startedAt'])
export class AuditVerificationRow {
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ type: 'boolean' }) intact!: boolean;
  @Column({ name: 'rows_verified', type: 'bigint' }) rowsVerified!: string;
  @Column({ name: 'through_seq', type: 'bigint' }) throughSeq!: string;
  @Column({ name: 'head_hash', type: 'text', nullable: true }) headHash!: string | null;
  @Column({ name: 'break_seq', type: 'bigint', nullable: true }) breakSeq!: string | null;
  @Column({ name: 'break_reason', type: 'text', nullable: true }) breakReason!: string | null;
  @Column({ name: 'started_at', type: 'timestamptz' }) startedAt!: Date;
  @Column({ name: 'duration_ms', type: 'integer' }) durationMs!: number;
}

export const auditVerificationsProjection: Projection = {
  name: 'audit-verifications',
  tables: ['audit_verifications'],
  entities: [AuditVerificationRow],
  ...perMessage({
    'system.AuditChainVerified': (sql, message) => {
      const d = dataOf<AuditChainVerifiedData>(message);
      sql.add(
        `INSERT INTO audit_verifications
           (event_id, intact, rows_verified, through_seq, head_hash, break_seq, break_reason, started_at, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          message.envelope.id,
          d.intact,
          d.rowsVerified,
          d.throughSeq,
          d.headHash ?? null,
          d.break?.seq ?? null,
          d.break?.reason ?? null,
          d.startedAt,
          d.durationMs,
        ],
      );
    },
  }),
};
