import {
  catalogue as defaultCatalogue,
  formatIssues,
  validateEnvelope,
  type Actor,
  type Catalogue,
  type Envelope,
} from '@bifrost/contracts';
import { ValidationError } from '@bifrost/event-sourcing';
import { assertJsonDepth, MAX_ENVELOPE_DEPTH } from './json-depth';
import { assertStorableText } from './storable-text';
import { uuidv7 } from './uuid';

export interface EnvelopeInput<D = Record<string, unknown>> {
  readonly type: string;
  readonly version?: number;
  readonly subject: string;
  readonly source: string;
  readonly actor: Actor;
  readonly data: D;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly id?: string;
  readonly occurredAt?: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Builds a complete envelope; `id` defaults to a fresh UUID v7, `occurredAt` to now. */
export function createEnvelope<D extends Record<string, unknown>>(input: EnvelopeInput<D>): Envelope<D> {
  const id = input.id ?? uuidv7();
  return {
    id,
    type: input.type,
    version: input.version ?? 1,
    occurredAt: input.occurredAt ?? new Date().toISOString(),
    source: input.source,
    subject: input.subject,
    ...(input.correlationId ? { correlationId: input.correlationId } : {}),
    ...(input.causationId ? { causationId: input.causationId } : {}),
    actor: input.actor,
    data: input.data,
  };
}

/**
 * Checks an envelope against the envelope schema and its type's data schema. Used on publish and on
 * receive, so nothing malformed enters a stream and nothing malformed reaches a handler.
 */
export function assertValidEnvelope(value: unknown, catalogue: Catalogue = defaultCatalogue): Envelope {
  const envelope = validateEnvelope(value);
  if (!envelope.ok) {
    throw new ValidationError(`invalid envelope: ${formatIssues(envelope.issues)}`, {
      code: 'ENVELOPE.INVALID',
      details: envelope.issues,
    });
  }
  const known = catalogue.check(envelope.value);
  if (!known.ok) {
    throw new ValidationError(known.message, {
      code: known.code === 'UNKNOWN_TYPE' ? 'ENVELOPE.UNKNOWN_TYPE' : 'ENVELOPE.INVALID_DATA',
      details: known.issues,
    });
  }
  return envelope.value;
}

/** UTF-8 JSON. `Buffer.from` rather than `TextEncoder`: about 3× faster for the 1–3 kB records. */
export function encodeJson(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Parses UTF-8 JSON; a malformed payload is a `ValidationError` with code `PAYLOAD.MALFORMED`. */
export function decodeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new ValidationError(`payload is not valid UTF-8 JSON: ${(error as Error).message}`, {
      code: 'PAYLOAD.MALFORMED',
    });
  }
}

/**
 * Decodes and checks an envelope read from a stream. Malformed JSON, JSON nested deeper than
 * {@link MAX_ENVELOPE_DEPTH} levels (which a recursive handler could not walk), text the audit log
 * could not hold and an invalid envelope are `ValidationError`s: a consumer parks the message at once rather than retry it.
 */
export function decodeEnvelope(bytes: Uint8Array, catalogue?: Catalogue): Envelope {
  const value = decodeJson(bytes);
  assertJsonDepth(value, MAX_ENVELOPE_DEPTH);
  assertStorableText(value, bytes);
  return assertValidEnvelope(value, catalogue);
}
