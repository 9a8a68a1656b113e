import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { createTestNamespace, type TestNamespace } from '@bifrost/testing';
import { defaultStreamSettings, provisionStreams, StreamConfigMismatchError } from '../provisioning';
import { SnapshotStore } from '../snapshots';

describe('stream provisioning', () => {
  let ns: TestNamespace;
  let nc: NatsConnection;

  beforeEach(async () => {
    ns = await createTestNamespace('prov');
    nc = await connect({ servers: ns.natsUrl });
  });
  afterEach(async () => {
    await nc.close();
    await ns.cleanup();
  });

  it('should create the four streams with the configured retention and dedupe window', async () => {
    const jsm = await jetstreamManager(nc);
    await provisionStreams(jsm, ns.naming, { ...defaultStreamSettings, decisionsMaxAgeDays: 7 });

    const events = await jsm.streams.info(ns.naming.streams.events.name);
    const decisions = await jsm.streams.info(ns.naming.streams.decisions.name);
    expect(events.config).toMatchObject({
      subjects: [`${ns.namespace}.bifrost.evt.>`],
      max_age: 0,
      duplicate_window: 120_000_000_000,
    });
    expect(decisions.config.max_age).toBe(7 * 24 * 3600 * 1e9);
    await expect(jsm.streams.info(ns.naming.streams.ingest.name)).resolves.toBeDefined();
    await expect(jsm.streams.info(ns.naming.streams.dlq.name)).resolves.toBeDefined();
  });

  it('should open the snapshot bucket from many connections at once, whichever creates it', async () => {
    const connections = await Promise.all(Array.from({ length: 8 }, () => connect({ servers: ns.natsUrl })));
    try {
      const stores = await Promise.allSettled(
        connections.map((c) => SnapshotStore.open(jetstream(c), ns.naming)),
      );
      expect(stores.map((s) => s.status)).toEqual(Array(8).fill('fulfilled'));
      const [first, second] = stores.map((s) => (s as PromiseFulfilledResult<SnapshotStore>).value);
      await first?.save('k', { state: { n: 1 }, lastSequence: 1, takenAt: '2026-12-07T00:00:00.000Z' });
      await expect(second?.load('k')).resolves.toMatchObject({ snapshot: { state: { n: 1 } } });
    } finally {
      await Promise.all(connections.map((c) => c.close()));
    }
  });

  it('should accept existing streams that match, and refuse to touch one that differs', async () => {
    const jsm = await jetstreamManager(nc);
    await provisionStreams(jsm, ns.naming);
    await expect(provisionStreams(jsm, ns.naming)).resolves.toBeUndefined();

    const error = await provisionStreams(jsm, ns.naming, {
      ...defaultStreamSettings,
      ingestMaxAgeDays: 90,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamConfigMismatchError);
    expect((error as StreamConfigMismatchError).differences).toEqual([
      expect.stringMatching(/^max_age: expected/),
    ]);
    const ingest = await jsm.streams.info(ns.naming.streams.ingest.name);
    expect(ingest.config.max_age).toBe(30 * 24 * 3600 * 1e9);
  });

  it('should refuse a duplicate window shorter than two minutes', async () => {
    const jsm = await jetstreamManager(nc);
    await expect(
      provisionStreams(jsm, ns.naming, { ...defaultStreamSettings, duplicateWindowMs: 60_000 }),
    ).rejects.toThrow('at least 2 minutes');
    await expect(jsm.streams.info(ns.naming.streams.events.name)).rejects.toThrow();
  });
});

describe('stream provisioning by services starting together', () => {
  it('should let every one of them succeed and end with one set of streams', async () => {
    const ns = await createTestNamespace('provrace');
    const connections = await Promise.all(Array.from({ length: 6 }, () => connect({ servers: ns.natsUrl })));
    try {
      const managers = await Promise.all(connections.map((c) => jetstreamManager(c)));
      await expect(
        Promise.all(managers.map((jsm) => provisionStreams(jsm, ns.naming))),
      ).resolves.toHaveLength(6);
      const info = await managers[0]?.streams.info(ns.naming.streams.events.name);
      expect(info?.config.subjects).toEqual([ns.naming.streams.events.subjects]);
    } finally {
      await Promise.all(connections.map((c) => c.close()));
      await ns.cleanup();
    }
  });
});
