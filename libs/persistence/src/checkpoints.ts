import { type EntityManager } from 'typeorm';
import { ConsumerCheckpoint } from './checkpoint.entity';

/** The last stream sequence `consumer` applied from `stream`; 0 when it has applied nothing yet. */
export async function loadCheckpoint(
  manager: EntityManager,
  consumer: string,
  stream: string,
): Promise<number> {
  const checkpoint = await manager.findOne(ConsumerCheckpoint, { where: { consumer, stream } });
  return checkpoint?.lastSequence ?? 0;
}

/**
 * Records that `consumer` applied `stream` up to `sequence`. Call it with the transaction's manager
 * that writes the read models, so effects and position commit or roll back together. Never moves
 * the checkpoint backwards (a redelivered older message cannot rewind it).
 */
export async function saveCheckpoint(
  manager: EntityManager,
  consumer: string,
  stream: string,
  sequence: number,
): Promise<void> {
  if (!Number.isSafeInteger(sequence) || sequence < 0) {
    throw new RangeError(`checkpoint sequence must be a non-negative safe integer, got ${sequence}`);
  }
  await manager.query(
    `INSERT INTO ${tableOf(manager)} AS consumer_checkpoints (consumer, stream, last_sequence, updated_at)
     VALUES ($1, $2, $3, now())
     ON CONFLICT (consumer, stream) DO UPDATE
       SET last_sequence = GREATEST(consumer_checkpoints.last_sequence, EXCLUDED.last_sequence),
           updated_at = now()`,
    [consumer, stream, sequence],
  );
}

function tableOf(manager: EntityManager): string {
  const { schema, tableName } = manager.connection.getMetadata(ConsumerCheckpoint);
  const escape = (name: string) => manager.connection.driver.escape(name);
  return schema ? `${escape(schema)}.${escape(tableName)}` : escape(tableName);
}
