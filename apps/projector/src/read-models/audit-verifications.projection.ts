import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { type AuditLogAccepted, type DataOf } from '@bifrost/contracts';
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

/** Every acceptance of the audit log as it stood, by an operator (system.AuditLogAccepted). */
@Entity({ name: 'audit_acceptances' })
@Index(['acceptedAt'])
export class AuditAcceptanceRow {
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'accepted_seq', type: 'bigint' }) acceptedSeq!: string;
  @Column({ name: 'accepted_hash', type: 'text' }) acceptedHash!: string;
  @Column({ name: 'previous_seq', type: 'bigint', nullable: true }) previousSeq!: string | null;
  @Column({ name: 'previous_hash', type: 'text', nullable: true }) previousHash!: string | null;
  @Column({ name: 'rows_verified', type: 'bigint' }) rowsVerified!: string;
  @Column({ type: 'text' }) reason!: string;
  @Column({ name: 'actor_id', type: 'text' }) actorId!: string;
  @Column({ name: 'accepted_at', type: 'timestamptz' }) acceptedAt!: Date;
}

export const auditVerificationsProjection: Projection = {
  name: 'audit-verifications',
  tables: ['audit_verifications', 'audit_acceptances'],
  entities: [AuditVerificationRow, AuditAcceptanceRow],
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
    'system.AuditLogAccepted': (sql, message) => {
      const d = dataOf<DataOf<typeof AuditLogAccepted>>(message);
      sql.add(
        `INSERT INTO audit_acceptances
           (event_id, accepted_seq, accepted_hash, previous_seq, previous_hash, rows_verified, reason, actor_id, accepted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          message.envelope.id,
          d.accepted.seq,
          d.accepted.hash,
          d.previous?.seq ?? null,
          d.previous?.hash ?? null,
          d.rowsVerified,
          d.reason,
          message.envelope.actor.id,
          message.envelope.occurredAt,
        ],
      );
    },
  }),
};
