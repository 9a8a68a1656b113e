import type { Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, waitFor, type TestNamespace } from '@bifrost/testing';
import {
  connectClient,
  controlledServer,
  httpProbe,
  startCanary,
  status,
  upsertProbe,
} from './canary.fixtures';

describe('canary: its events stream recreated under it', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let canary: RunningService | undefined;

  beforeAll(async () => {
    ns = await createTestNamespace('canst');
    client = await connectClient(ns);
  });
  afterAll(async () => {
    await canary?.close();
    await client.drain();
    await ns.cleanup();
  });

  it('should stop probing what the new stream does not define once it has rebuilt its state', async () => {
    const target = await controlledServer();
    try {
      canary = await startCanary(ns);
      await upsertProbe(client, httpProbe('feed', target.url));
      await waitFor(async () => target.requests >= 3, { what: 'the probe checking its target' });

      // An operator restores an empty stream: the probe's definition is gone with it.
      const name = ns.naming.streams.events.name;
      const { config } = await client.jsm.streams.info(name);
      await client.jsm.streams.delete(name);
      await client.jsm.streams.add(config);

      // The state verification (every 5 s) notices the new stream and rebuilds from it.
      await waitFor(async () => (await status(client)).probes.length === 0, {
        what: 'the rebuilt state without the probe',
        timeoutMs: 15_000,
      });
      // The probe's loop heard the rebuild too: its target gets no more checks.
      const settled = target.requests;
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(target.requests - settled).toBeLessThanOrEqual(1);
    } finally {
      await target.close();
    }
  }, 30_000);
});
