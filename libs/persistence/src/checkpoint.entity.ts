import { Column, Entity, PrimaryColumn } from 'typeorm';

/** How far a durable consumer has applied a stream; written in the same transaction as its effects. */
@Entity({ name: 'consumer_checkpoints' })
export class ConsumerCheckpoint {
  @PrimaryColumn({ type: 'text' })
  consumer!: string;

  @PrimaryColumn({ type: 'text' })
  stream!: string;

  @Column({ name: 'last_sequence', type: 'bigint' })
  lastSequence!: number;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
