import type { DataOf, OutcomeReported } from '@bifrost/contracts';
import { createEnvelope, type Messaging } from '@bifrost/messaging';

/** An outcome as the SDK reports it on the ingest stream, for the gate to fold. */
export function publishOutcome(client: Messaging, data: DataOf<typeof OutcomeReported>) {
  return client.publisher.publish(
    createEnvelope({
      type: 'ingest.OutcomeReported',
      subject: client.naming.ingestSubject('outcome', data.engineId),
      source: 'sdk',
      actor: { kind: 'engine', id: data.engineId },
      data,
    }),
  );
}
