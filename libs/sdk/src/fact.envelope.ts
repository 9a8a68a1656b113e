import { randomBytes } from 'node:crypto';
import {
  formatIssues,
  validateEnvelope,
  type Catalogue,
  type Envelope,
  type IngestKind,
  type MessageDefinition,
  type Naming,
} from '@bifrost/contracts';
import { SDK_ERROR_CODES, SdkError } from './sdk.errors';

/** A fact an engine reports, wrapped once at record time so every re-send carries the same id. */
export interface Fact {
  readonly kind: IngestKind;
  readonly envelope: Envelope;
  /** The engine's trace context when the fact was recorded (`traceHeaders`), sent with every attempt. */
  readonly traceHeaders: Readonly<Record<string, string>>;
}

/** `source` of every envelope the SDK builds; the engine itself is the `actor`. */
export const SDK_SOURCE = 'sdk';

let lastMs = 0;
let counter = 0;

/**
 * RFC 9562 UUID v7 (48-bit ms timestamp, then random bits), ordered within one millisecond by a
 * 12-bit counter. A copy of the services' helper: the SDK may not depend on @bifrost/messaging.
 */
export function uuidv7(nowMs: number): string {
  let ms = nowMs;
  if (ms <= lastMs) {
    counter = (counter + 1) & 0xfff;
    if (counter === 0) lastMs += 1;
    ms = lastMs;
  } else {
    lastMs = ms;
    counter = randomBytes(2).readUInt16BE(0) & 0x7ff;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The message type engines publish on `bifrost.ingest.<kind>.{engineId}`, looked up in the catalogue
 * rather than hard-coded: a kind becomes usable as soon as its owning service registers its type.
 * Several versions → the newest.
 */
export function factDefinition(catalogue: Catalogue, kind: IngestKind): MessageDefinition | undefined {
  const subject = `bifrost.ingest.${kind}.{engineId}`;
  return catalogue.definitions
    .filter((d) => d.kind === 'ingest' && d.subject === subject)
    .sort((a, b) => b.version - a.version)[0];
}

export interface FactInput {
  readonly catalogue: Catalogue;
  readonly naming: Naming;
  readonly engineId: string;
  readonly kind: IngestKind;
  readonly fields: Record<string, unknown>;
  readonly nowMs: number;
  readonly traceHeaders: Readonly<Record<string, string>>;
}

/**
 * Wraps a fact in a complete envelope and checks it against the envelope schema and its type's data
 * schema, so a bad fact fails at the call site instead of being buffered and refused later. The
 * fields are copied whole: what is buffered is what was recorded, whatever the caller does later
 * with the objects it passed (`pnl` reused and changed for the next outcome).
 */
export function buildFact({
  catalogue,
  naming,
  engineId,
  kind,
  fields,
  nowMs,
  traceHeaders,
}: FactInput): Fact {
  const definition = factDefinition(catalogue, kind);
  if (!definition) {
    throw new SdkError(
      SDK_ERROR_CODES.unsupportedFact,
      `no message type for "${kind}" facts in this Bifrost version's catalogue`,
    );
  }
  const envelope: Envelope = {
    id: uuidv7(nowMs),
    type: definition.type,
    version: definition.version,
    occurredAt: new Date(nowMs).toISOString(),
    source: SDK_SOURCE,
    subject: naming.ingestSubject(kind, engineId),
    actor: { kind: 'engine', id: engineId },
    // The client's engine id wins: a fact is always about the engine that reports it.
    data: { ...copied(kind, fields), engineId },
  };
  const shape = validateEnvelope(envelope);
  if (!shape.ok) {
    throw new SdkError(
      SDK_ERROR_CODES.invalidFact,
      `invalid ${kind} fact: ${formatIssues(shape.issues)}`,
      shape.issues,
    );
  }
  const known = catalogue.check(envelope);
  if (!known.ok) {
    throw new SdkError(SDK_ERROR_CODES.invalidFact, `invalid ${kind} fact: ${known.message}`, known.issues);
  }
  return { kind, envelope, traceHeaders };
}

/** A deep copy of plain data; anything else (a function, a class with private state) is not a fact's. */
function copied(kind: IngestKind, fields: Record<string, unknown>): Record<string, unknown> {
  try {
    return structuredClone(fields);
  } catch (error) {
    throw new SdkError(SDK_ERROR_CODES.invalidFact, `invalid ${kind} fact: ${(error as Error).message}`);
  }
}
