import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { Catalogue, Envelope } from '@bifrost/contracts';
import { ConcurrencyError, TransientError } from '@bifrost/event-sourcing';
import { assertValidEnvelope, encodeJson } from './envelope-codec';
import { inSpan, injectTraceContext } from './tracing';

export interface PublishOptions {
  /** Nats-Expected-Last-Subject-Sequence: 0 means "the subject must be empty". */
  readonly expectedLastSubjectSequence?: number;
  readonly timeoutMs?: number;
}

const WRONG_LAST_SEQUENCE = 10071;

/**
 * Publishes validated envelopes to JetStream and returns only once the stream acknowledged them.
 * Every publish carries Nats-Msg-Id = envelope id (dedupe) and the W3C trace context.
 */
export class Publisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly catalogue?: Catalogue,
  ) {}

  async publish(envelope: Envelope, options: PublishOptions = {}): Promise<PubAck> {
    assertValidEnvelope(envelope, this.catalogue);
    return inSpan(
      `publish ${envelope.type}`,
      'producer',
      { 'messaging.destination.name': envelope.subject },
      async () => {
        const headers = injectTraceContext(natsHeaders());
        headers.set('content-type', 'application/json');
        try {
          return await this.js.publish(envelope.subject, encodeJson(envelope), {
            msgID: envelope.id,
            headers,
            ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
            ...(options.expectedLastSubjectSequence !== undefined
              ? { expect: { lastSubjectSequence: options.expectedLastSubjectSequence } }
              : {}),
          });
        } catch (error) {
          throw translatePublishError(error, envelope.subject, options.expectedLastSubjectSequence);
        }
      },
    );
  }
}

function translatePublishError(error: unknown, subject: string, expected: number | undefined): Error {
  const e = error as { code?: number; apiError?: () => { err_code?: number }; message?: string };
  const errCode = typeof e.apiError === 'function' ? e.apiError().err_code : undefined;
  if (errCode === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(e.message ?? '')) {
    return new ConcurrencyError(`concurrent append to ${subject}`, {
      details: { subject, expectedSequence: expected, server: e.message },
      cause: error,
    });
  }
  return new TransientError(
    `JetStream did not acknowledge the publish to ${subject}: ${e.message ?? String(error)}`,
    {
      cause: error,
    },
  );
}
