import { createHash } from 'node:crypto';
import type { IngestKind } from './naming';

/**
 * An RFC 9562 UUID v8 from the SHA-256 of `parts` (as a JSON array): the same parts always name
 * the same id, and parts that differ in any way (or join alike) name another.
 */
export function derivedId(parts: readonly string[]): string {
  const bytes = createHash('sha256').update(JSON.stringify(parts)).digest().subarray(0, 16);
  bytes[6] = 0x80 | ((bytes[6] as number) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The envelope id (and so the Nats-Msg-Id) of a fact sent with an `Idempotency-Key`: the
 * {@link derivedId} of engine id, fact kind and key. The same key re-sent by the same engine for
 * the same kind names the same fact (JetStream stores it once); another engine or kind with that
 * key names another fact, and learns nothing of the first.
 */
export function factId(engineId: string, kind: IngestKind, idempotencyKey: string): string {
  return derivedId([engineId, kind, idempotencyKey]);
}
