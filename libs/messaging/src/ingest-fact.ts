import type { Envelope } from '@bifrost/contracts';
import { ValidationError } from '@bifrost/event-sourcing';

/**
 * The data of an engine's fact from BIFROST_INGEST, as every ingest consumer takes it: of the type
 * its subject carries, about the engine its subject names (`….ingest.<kind>.<engineId>`), and not
 * sent by another engine. Anything else is a `ValidationError` (parked at once, never retried).
 */
export function engineFact<D extends { engineId: string }>(envelope: Envelope, type: string): D {
  if (envelope.type !== type) {
    throw new ValidationError(`unexpected ${envelope.type} on the subject of ${type}`, {
      code: 'INGEST.UNEXPECTED_TYPE',
    });
  }
  const data = envelope.data as unknown as D;
  if (envelope.actor.kind === 'engine' && envelope.actor.id !== data.engineId) {
    throw new ValidationError(`engine ${envelope.actor.id} reported for ${data.engineId}`, {
      code: 'INGEST.FOREIGN_ENGINE',
    });
  }
  if (envelope.subject.slice(envelope.subject.lastIndexOf('.') + 1) !== data.engineId) {
    throw new ValidationError(`a fact of ${data.engineId} on ${envelope.subject}`, {
      code: 'INGEST.SUBJECT_MISMATCH',
    });
  }
  return data;
}
