import { Column, Entity, PrimaryColumn, type ValueTransformer } from 'typeorm';

/**
 * `bigint` arrives from pg as a string; JetStream sequences stay far below 2^53, so they are read
 * as numbers, and a value that would lose precision fails loudly instead of rounding.
 */
export const safeIntegerTransformer: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => {
    if (value === null) return null;
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed))
      throw new RangeError(`bigint ${String(value)} exceeds Number.MAX_SAFE_INTEGER`);
    return parsed;
  },
};

/** How far a durable consumer has applied a stream; written in the same transaction as its effects. */
@Entity({ name: 'consumer_checkpoints' })
export class ConsumerCheckpoint {
  @PrimaryColumn({ type: 'text' })
  consumer!: string;

  @PrimaryColumn({ type: 'text' })
  stream!: string;

  @Column({ name: 'last_sequence', type: 'bigint', transformer: safeIntegerTransformer })
  lastSequence!: number;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
