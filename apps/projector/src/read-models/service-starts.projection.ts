import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { dataOf, perMessage, type Projection } from './projection';

/** The start history of every service instance (system.ServiceStarted). */
@Entity({ name: 'service_starts' })
@Index(['service', 'startedAt'])
export class ServiceStartRow {
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ type: 'text' }) service!: string;
  @Column({ name: 'instance_id', type: 'text' }) instanceId!: string;
  @Column({ type: 'text' }) version!: string;
  @Column({ name: 'previous_starts', type: 'integer' }) previousStarts!: number;
  @Column({ name: 'started_at', type: 'timestamptz' }) startedAt!: Date;
}

export const serviceStartsProjection: Projection = {
  name: 'service-starts',
  tables: ['service_starts'],
  entities: [ServiceStartRow],
  ...perMessage({
    'system.ServiceStarted': (sql, message) => {
      const d = dataOf<{ service: string; instanceId: string; version: string; previousStarts: number }>(
        message,
      );
      sql.add(
        `INSERT INTO service_starts (event_id, service, instance_id, version, previous_starts, started_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          message.envelope.id,
          d.service,
          d.instanceId,
          d.version,
          d.previousStarts,
          message.envelope.occurredAt,
        ],
      );
    },
  }),
};
