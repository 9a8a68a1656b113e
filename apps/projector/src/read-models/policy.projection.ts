import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { dataOf, perMessage, type Projection } from './projection';

/**
 * What each verdict's `policyRevision` stands for: the policies the gate hashed into it, recorded
 * once per revision (gate.PolicyRevisionRecorded). `policies` is null when the gate did not keep
 * them (JCS form over 512 KiB; `bytes` is its size either way).
 */
@Entity({ name: 'policy_revisions' })
@Index(['recordedAt', 'revision'])
export class PolicyRevisionRow {
  /** SHA-256 (hex) of the JCS form of `policies`. */
  @PrimaryColumn({ type: 'text' }) revision!: string;
  @Column({ type: 'jsonb', nullable: true }) policies!: Record<string, unknown> | null;
  @Column({ type: 'integer' }) bytes!: number;
  @Column({ name: 'recorded_at', type: 'timestamptz' }) recordedAt!: Date;
  /** The event that recorded it: the first one, as a revision is recorded once. */
  @Column({ name: 'event_id', type: 'text' }) eventId!: string;
}

interface PolicyRevisionRecorded {
  revision: string;
  policies: Record<string, unknown> | null;
  bytes: number;
  recordedAt: string;
}

/** The gate's policy revisions: the first record of a revision wins (replicas may each record it). */
export const policyProjection: Projection = {
  name: 'policy-revisions',
  tables: ['policy_revisions'],
  entities: [PolicyRevisionRow],
  ...perMessage({
    'gate.PolicyRevisionRecorded': (sql, message) => {
      const d = dataOf<PolicyRevisionRecorded>(message);
      sql.add(
        `INSERT INTO policy_revisions (revision, policies, bytes, recorded_at, event_id)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (revision) DO NOTHING`,
        [
          d.revision,
          d.policies === null ? null : JSON.stringify(d.policies),
          d.bytes,
          d.recordedAt,
          message.envelope.id,
        ],
      );
    },
  }),
};
