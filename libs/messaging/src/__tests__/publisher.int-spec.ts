import { headers } from '@nats-io/nats-core';
import { TransientError } from '@bifrost/event-sourcing';
import { createTestNamespace, type TestNamespace } from '@bifrost/testing';
import type { Messaging } from '../messaging';
import { Type } from '@sinclair/typebox';
import { Catalogue, defineMessage } from '@bifrost/contracts';
import { createEnvelope, decodeEnvelope, encodeJson } from '../envelope-codec';
import { MAX_ENVELOPE_DEPTH } from '../json-depth';
import { Publisher } from '../publisher';
import { PublishAcks } from '../publish-acks';
import { connectTest, incremented, nestedJson } from './fixtures';

describe('Publisher acks (one multiplexed inbox)', () => {
  let ns: TestNamespace;
  let messaging: Messaging;

  beforeAll(async () => {
    ns = await createTestNamespace('pub');
    messaging = await connectTest(ns.natsUrl, ns.namespace);
  });
  afterAll(async () => {
    await messaging.drain();
    await ns.cleanup();
  });

  it('should resolve each of many concurrent publishes with its own stream sequence', async () => {
    const envelopes = Array.from({ length: 200 }, (_, i) => incremented(ns.naming, `many-${i % 7}`, i + 1));

    const acks = await Promise.all(envelopes.map((e) => messaging.publisher.publish(e)));

    expect(new Set(acks.map((a) => a.seq)).size).toBe(200);
    for (const [i, ack] of acks.entries()) {
      const stored = await messaging.jsm.streams.getMessage(ack.stream, { seq: ack.seq });
      expect((stored?.json() as { id: string } | undefined)?.id).toBe(envelopes[i]?.id);
    }
  });

  it('should refuse an envelope the audit log could not hold, storing nothing', async () => {
    const envelope = incremented(ns.naming, 'unstorable');
    const poisoned = { ...envelope, correlationId: 'x\u0000' };
    const stream = ns.naming.streams.events.name;
    const before = (await messaging.jsm.streams.info(stream)).state.last_seq;

    await expect(messaging.publisher.publish(poisoned)).rejects.toMatchObject({ code: 'PAYLOAD.MALFORMED' });

    expect((await messaging.jsm.streams.info(stream)).state.last_seq).toBe(before);
  });

  it('should refuse an envelope nested deeper than any reader takes, storing nothing', async () => {
    // A type whose data takes any value, as a proposal quoting an event does.
    const Nested = defineMessage({
      type: 'system.NestedRecorded',
      version: 1,
      kind: 'event',
      producer: 'test',
      consumers: [],
      subject: 'bifrost.evt.system.nested.{id}',
      description: 'test event',
      data: Type.Object({ value: Type.Unknown() }),
    });
    const catalogue = new Catalogue([Nested], []);
    const envelope = createEnvelope({
      type: 'system.NestedRecorded',
      subject: ns.naming.eventSubject('system', 'nested', 'deep'),
      source: 'test',
      actor: { kind: 'system', id: 'test' },
      data: { value: JSON.parse(nestedJson(MAX_ENVELOPE_DEPTH)) as unknown },
    });
    // Stored, it would be an event every reader refuses (a tail skips it, a consumer parks it).
    expect(() => decodeEnvelope(encodeJson(envelope), catalogue)).toThrow(/nested deeper/);
    const stream = ns.naming.streams.events.name;
    const before = (await messaging.jsm.streams.info(stream)).state.last_seq;

    await expect(new Publisher(messaging.nc, catalogue).publish(envelope)).rejects.toMatchObject({
      code: 'PAYLOAD.MALFORMED',
    });
    expect((await messaging.jsm.streams.info(stream)).state.last_seq).toBe(before);
  });

  it('should fail at once, not at the deadline, when nats.js refuses to send (a payload over max_payload)', async () => {
    const acks = new PublishAcks(messaging.nc);
    const tooLarge = new Uint8Array((messaging.nc.info?.max_payload ?? 1024 * 1024) + 1);

    // A 60 s deadline: waiting for it would outlast the test's own 5 s.
    const outcome = await acks.publish(
      ns.naming.qualify('bifrost.evt.test.x.y'),
      tooLarge,
      headers(),
      60_000,
    );

    expect(outcome).toMatchObject({ ok: false, message: expect.stringMatching(/^not sent: /) });
  });

  it('should fail at once, not at the deadline, when no stream takes the subject', async () => {
    const envelope = { ...incremented(ns.naming, 'lost'), subject: `${ns.namespace}.nostream.lost` };

    // A 10-minute deadline: only the server's "no responders" status can end this within the test timeout.
    await expect(messaging.publisher.publish(envelope, { timeoutMs: 600_000 })).rejects.toThrow(
      /no responders/,
    );
  });

  it('should fail with a transient error when the ack does not come in time', async () => {
    const subject = `${ns.namespace}.silent.x`;
    // A plain subscriber that never answers: the publish has a taker but no ack ever comes.
    const silent = messaging.nc.subscribe(subject);
    try {
      const envelope = { ...incremented(ns.naming, 'silent'), subject };
      const failure = messaging.publisher.publish(envelope, { timeoutMs: 300 });

      await expect(failure).rejects.toBeInstanceOf(TransientError);
      await expect(failure).rejects.toThrow(/timed out/);
    } finally {
      silent.unsubscribe();
    }
  });
});
