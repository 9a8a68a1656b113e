import { randomBytes } from 'node:crypto';
import { jetstreamManager, StorageType, type JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createNaming, type Naming } from '@bifrost/contracts';
import { infra } from './infra';

/**
 * A namespace of its own for one test on the shared NATS server: every subject is prefixed with it
 * and every stream name too, so tests never see each other's messages. `cleanup()` deletes the
 * namespace's streams and snapshot bucket.
 */
export interface TestNamespace {
  readonly namespace: string;
  readonly naming: Naming;
  readonly natsUrl: string;
  cleanup(): Promise<void>;
}

/**
 * A file-storage stream that tests never delete. nats-server 2.9 removes the account's store
 * directory when its last file stream is deleted, and a stream created at that moment fails with
 * "could not create storage directory" (seen once in CI while parallel test files were cleaning up).
 * With this stream in place the directory is never empty.
 */
const ANCHOR_STREAM = 'BIFROST_TEST_ANCHOR';
let anchored: Promise<void> | undefined;

function anchorStream(natsUrl: string): Promise<void> {
  anchored ??= (async () => {
    const nc = await connect({ servers: natsUrl });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.info(ANCHOR_STREAM).catch(() =>
        jsm.streams.add({
          name: ANCHOR_STREAM,
          subjects: ['_bifrost_test.anchor'],
          storage: StorageType.File,
        }),
      );
    } finally {
      await nc.close();
    }
  })();
  return anchored;
}

export async function createTestNamespace(label = 't'): Promise<TestNamespace> {
  const { natsUrl } = await infra();
  await anchorStream(natsUrl);
  const namespace = `${label.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}${randomBytes(4).toString('hex')}`;
  const naming = createNaming(namespace);
  return {
    namespace,
    naming,
    natsUrl,
    cleanup: async () => {
      const nc = await connect({ servers: natsUrl });
      try {
        const jsm = await jetstreamManager(nc);
        const names = [
          ...Object.values(naming.streams).map((s) => s.name),
          `KV_${naming.snapshotBucket}`,
          `KV_${naming.auditBucket}`,
        ];
        for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
      } finally {
        await nc.close();
      }
    },
  };
}

/** The first `count` messages of `stream` as JSON, in the order the stream holds them. */
export async function readStreamJson<T>(js: JetStreamClient, stream: string, count: number): Promise<T[]> {
  const consumer = await js.consumers.get(stream);
  const messages: T[] = [];
  for await (const msg of await consumer.fetch({ max_messages: count })) messages.push(msg.json<T>());
  return messages;
}
