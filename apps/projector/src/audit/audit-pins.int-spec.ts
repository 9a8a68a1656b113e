import { GENESIS_HASH } from '@bifrost/audit';
import { Kvm } from '@nats-io/kv';
import { Messaging } from '@bifrost/messaging';
import { createTestNamespace, type TestNamespace } from '@bifrost/testing';
import { AUDIT_PIN_KEY, AuditPins, PinWriter, isWrongRevision } from './audit-pins';

const entry = (seq: number) => ({ seq, hash: seq.toString(16).padStart(64, 'a') });

describe('the pinned audit log entry in the snapshot bucket', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let pins: AuditPins;

  beforeAll(async () => {
    ns = await createTestNamespace('auditpin');
    client = await Messaging.connect({
      url: ns.natsUrl,
      service: 'projector',
      instanceId: 'p1',
      namespace: ns.namespace,
    });
    pins = new AuditPins(client);
    await pins.load();
  });

  afterAll(async () => {
    await client?.drain();
    await ns?.cleanup();
  });

  beforeEach(async () => {
    await (await new Kvm(client.js).open(ns.naming.auditBucket)).purge(AUDIT_PIN_KEY);
  });

  describe('Given no entry stored', () => {
    it('should load none, store one guarded by revision 0, and refuse a second write at revision 0', async () => {
      const empty = await pins.load();
      expect(empty.entry).toBeUndefined();
      const revision = await pins.save(entry(3), empty.revision);
      expect(await pins.load()).toEqual({ entry: entry(3), revision });
      const stale = await pins.save(entry(4), empty.revision).catch((error: unknown) => error);
      expect(isWrongRevision(stale)).toBe(true);
      expect((await pins.load()).entry).toEqual(entry(3));
    });
  });

  describe("Given an operator's acceptance", () => {
    it('should keep when it was accepted, which a writer does not set', async () => {
      const { revision } = await pins.load();
      const accepted = await pins.save({ seq: 0, hash: GENESIS_HASH }, revision, '2026-12-07T16:00:00.000Z');
      expect(await pins.load()).toEqual({
        entry: { seq: 0, hash: GENESIS_HASH },
        revision: accepted,
        acceptedAt: '2026-12-07T16:00:00.000Z',
      });
      const next = await pins.save(entry(1), accepted);
      expect((await pins.load()).acceptedAt).toBeUndefined();
      expect((await pins.load()).revision).toBe(next);
    });
  });

  describe('Given a writer offering entries faster than the bucket takes them', () => {
    it('should store the newest, in as few writes as it takes', async () => {
      const errors: unknown[] = [];
      const writer = new PinWriter(pins, (error) => errors.push(error));
      const { revision } = await writer.load();
      for (let seq = 1; seq <= 50; seq += 1) writer.offer(entry(seq));
      await writer.flush();
      const stored = await pins.load();
      expect(errors).toEqual([]);
      expect(stored.entry).toEqual(entry(50));
      // Each write takes the key one revision on: fewer than one per offer.
      expect(stored.revision - revision).toBeLessThan(50);
    });
  });

  describe('Given an entry stored by someone else since the writer read the key', () => {
    it("should read the revision again and store its own, over the other's", async () => {
      const errors: unknown[] = [];
      const writer = new PinWriter(pins, (error) => errors.push(error));
      await writer.load();
      writer.offer(entry(7));
      await writer.flush();
      // An operator accepts meanwhile: the writer's revision is stale.
      const { revision } = await pins.load();
      await pins.save(entry(5), revision, '2026-12-07T16:00:00.000Z');

      writer.offer(entry(9));
      await writer.flush();

      expect(errors).toEqual([]);
      expect((await pins.load()).entry).toEqual(entry(9));
    });
  });
});
