import { jetstreamManager } from '@nats-io/jetstream';
import { headers, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { PublishAcks } from '@bifrost/messaging';

/**
 * Baselines measured in the same run as a service (DESIGN §10): what NATS itself costs. The raw
 * echo answers every request at once; the JetStream echo first publishes the request to a stream
 * and awaits the ack, the least a service that records before replying can do. It publishes the
 * way the services do (`PublishAcks`, ADR 0011), not with nats.js's `js.publish`, which costs its
 * process about twice the CPU per request and would make the baseline ~1.3× slower than it need be
 * (docs/performance.md, "The echo+JetStream baseline publishes as the services do").
 */
export interface EchoBaseline {
  readonly subject: string;
  stop(): Promise<void>;
}

/** Core NATS request-reply echo on `subject`. */
export function startNatsEcho(nc: NatsConnection, subject: string): EchoBaseline {
  const sub: Subscription = nc.subscribe(subject, {
    callback: (_err, msg) => {
      msg.respond(msg.data);
    },
  });
  return { subject, stop: () => sub.drain() };
}

const FAILED = new TextEncoder().encode('{"ok":false}');

/** Echo that publishes each request to a file-backed stream of its own and replies after the ack. */
export async function startJetStreamEcho(
  nc: NatsConnection,
  subject: string,
  stream: string,
): Promise<EchoBaseline> {
  const jsm = await jetstreamManager(nc);
  const acks = new PublishAcks(nc);
  const recordSubject = `${subject}.recorded`;
  await jsm.streams.add({ name: stream, subjects: [recordSubject], duplicate_window: 120_000_000_000 });
  let n = 0;
  const sub = nc.subscribe(subject, {
    callback: (_err, msg) => {
      n += 1;
      // Deduplicated by id, as the services' records are.
      const h = headers();
      h.set('Nats-Msg-Id', `${stream}-${n}`);
      void acks
        .publish(recordSubject, msg.data, h, 5_000)
        .then((outcome) => msg.respond(outcome.ok ? msg.data : FAILED));
    },
  });
  return {
    subject,
    stop: async () => {
      await sub.drain();
      await jsm.streams.delete(stream).catch(() => undefined);
    },
  };
}
