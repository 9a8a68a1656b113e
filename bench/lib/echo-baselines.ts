import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';

/**
 * Baselines measured in the same run as a service (DESIGN §10): what NATS itself costs. The raw
 * echo answers every request at once; the JetStream echo first publishes the request to a stream
 * and awaits the ack, the least a service that records before replying can do.
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

/** Echo that publishes each request to a file-backed stream of its own and replies after the ack. */
export async function startJetStreamEcho(
  nc: NatsConnection,
  subject: string,
  stream: string,
): Promise<EchoBaseline> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const recordSubject = `${subject}.recorded`;
  await jsm.streams.add({ name: stream, subjects: [recordSubject], duplicate_window: 120_000_000_000 });
  let n = 0;
  const sub = nc.subscribe(subject, {
    callback: (_err, msg) => {
      n += 1;
      js.publish(recordSubject, msg.data, { msgID: `${stream}-${n}` }).then(
        () => msg.respond(msg.data),
        () => msg.respond(new TextEncoder().encode('{"ok":false}')),
      );
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
