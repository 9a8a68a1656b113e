import type { PubAck } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import type { Catalogue, Envelope } from '@bifrost/contracts';
import { ConcurrencyError, TransientError } from '@bifrost/event-sourcing';
import { assertValidEnvelope, encodeJson } from './envelope-codec';
import { assertJsonDepth, MAX_ENVELOPE_DEPTH } from './json-depth';
import { PublishAcks, type PublishOutcome } from './publish-acks';
import { assertStorableText } from './storable-text';
import { inSpan, injectTraceContext } from './tracing';

export interface PublishOptions {
  /** Nats-Expected-Last-Subject-Sequence: 0 means "the subject must be empty". */
  readonly expectedLastSubjectSequence?: number;
  readonly timeoutMs?: number;
}

const WRONG_LAST_SEQUENCE = 10071;
const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Publishes validated envelopes to JetStream and returns only once the stream acknowledged them.
 * Every publish carries Nats-Msg-Id = envelope id (dedupe) and the W3C trace context.
 */
export class Publisher {
  private readonly acks: PublishAcks;

  constructor(
    nc: NatsConnection,
    private readonly catalogue?: Catalogue,
  ) {
    this.acks = new PublishAcks(nc);
  }

  /**
   * The bytes `publish` sends for `envelope`, once it is valid and the audit log could hold it;
   * throws as `publish` would, before anything is sent. `written`, when given, is `envelope` with
   * parts of it already encoded (`EncodedJson`): the same JSON, without encoding them again.
   */
  encode(envelope: Envelope, written: unknown = envelope): Uint8Array {
    // Nested deeper than `decodeEnvelope` takes, it would be stored and then refused by every reader.
    assertJsonDepth(envelope, MAX_ENVELOPE_DEPTH);
    assertValidEnvelope(envelope, this.catalogue);
    const body = encodeJson(written);
    // A record the audit log could not hold is no record: refused before it is stored.
    assertStorableText(envelope, body);
    return body;
  }

  /** Publishes `envelope` (as `body`, when `encode` made it already) and waits for the stream's ack. */
  async publish(
    envelope: Envelope,
    options: PublishOptions = {},
    body: Uint8Array = this.encode(envelope),
  ): Promise<PubAck> {
    return inSpan(
      `publish ${envelope.type}`,
      'producer',
      { 'messaging.destination.name': envelope.subject },
      async () => {
        const headers = injectTraceContext(natsHeaders());
        headers.set('content-type', 'application/json');
        headers.set('Nats-Msg-Id', envelope.id);
        if (options.expectedLastSubjectSequence !== undefined) {
          headers.set('Nats-Expected-Last-Subject-Sequence', String(options.expectedLastSubjectSequence));
        }
        const outcome = await this.acks.publish(
          envelope.subject,
          body,
          headers,
          options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        );
        if (outcome.ok) return outcome.ack;
        throw translatePublishError(outcome, envelope.subject, options.expectedLastSubjectSequence);
      },
    );
  }
}

function translatePublishError(
  failure: Extract<PublishOutcome, { ok: false }>,
  subject: string,
  expected: number | undefined,
): Error {
  if (failure.errCode === WRONG_LAST_SEQUENCE) {
    return new ConcurrencyError(`concurrent append to ${subject}`, {
      details: { subject, expectedSequence: expected, server: failure.message },
    });
  }
  return new TransientError(`JetStream did not acknowledge the publish to ${subject}: ${failure.message}`);
}
