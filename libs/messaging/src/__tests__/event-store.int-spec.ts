import { ConcurrencyError, TransientError, type Decider } from '@bifrost/event-sourcing';
import { createTestNamespace, TcpProxy, type TestNamespace } from '@bifrost/testing';
import type { Messaging } from '../messaging';
import { handleCommand, streamSource, toDomainEvent, type DomainEvent } from '../event-store';
import { createEnvelope } from '../envelope-codec';
import { connectTest, incremented } from './fixtures';

describe('EventStore on JetStream', () => {
  let ns: TestNamespace;
  let messaging: Messaging;

  beforeAll(async () => {
    ns = await createTestNamespace('es');
    messaging = await connectTest(ns.natsUrl, ns.namespace);
  });
  afterAll(async () => {
    await messaging.drain();
    await ns.cleanup();
  });

  const subject = (id: string) => ns.naming.eventSubject('system', 'counter', id);

  it('should read back exactly what was appended, in order, with the last subject sequence', async () => {
    const s = subject('round-trip');
    const envelopes = [incremented(ns.naming, 'round-trip', 1), incremented(ns.naming, 'round-trip', 2)];
    const last = await messaging.eventStore.append(s, envelopes, 0);

    const { events, lastSequence } = await messaging.eventStore.read(s);

    expect(events.map((e) => e.envelope)).toEqual(envelopes);
    expect(lastSequence).toBe(last);
    expect(events[1]?.sequence).toBe(last);
  });

  it('should fail a read whose consumer went away rather than wait for ever', async () => {
    const s = subject('lost-reader');
    // More than one pull's worth (1 000), so the read is still pulling when its consumer goes.
    let last = 0;
    for (let i = 0; i < 1_500; i += 150) {
      last = await messaging.eventStore.append(
        s,
        Array.from({ length: 150 }, (_, n) => incremented(ns.naming, 'lost-reader', i + n)),
        last,
      );
    }
    const stream = ns.naming.streams.events.name;
    let first = true;
    const read = messaging.eventStore.readAll(s, 1, async () => {
      if (!first) return;
      first = false;
      // What a server restart does to the read's in-memory consumer.
      for await (const consumer of messaging.jsm.consumers.list(stream)) {
        if (!consumer.config.durable_name) await messaging.jsm.consumers.delete(stream, consumer.name);
      }
    });
    // The stream's failure, not the caller's: an infrastructure failure, retried by consumers.
    await expect(read).rejects.toBeInstanceOf(TransientError);
  }, 30_000);

  it("should pass on the caller's own failure while reading as it is, not as the stream's", async () => {
    const s = subject('caller-fails');
    await messaging.eventStore.append(s, [incremented(ns.naming, 'caller-fails', 1)], 0);
    const bug = new TypeError('cannot read properties of undefined');
    await expect(
      messaging.eventStore.readAll(s, 1, () => {
        throw bug;
      }),
    ).rejects.toBe(bug);
  });

  it('should read from mid-stream every event its filter matches, up to the last one there, and stop', async () => {
    // Two aggregate types interleaved, the stream ending on the type the read leaves out.
    const counters = ns.naming.eventSubject('system', 'tally', 'x').replace(/x$/, '>');
    const appended: number[] = [];
    const last = new Map<string, number>();
    for (let i = 0; i < 300; i += 1) {
      const [type, id] = i % 3 === 0 ? ['counter', `c${i % 7}`] : ['tally', `t${i % 11}`];
      const s = ns.naming.eventSubject('system', type, id);
      const envelope = { ...incremented(ns.naming, id, i), subject: s };
      const seq = await messaging.eventStore.append(s, [envelope], last.get(s) ?? 0);
      last.set(s, seq);
      if (type === 'tally') appended.push(seq);
    }
    await messaging.eventStore.append(
      ns.naming.eventSubject('system', 'counter', 'end'),
      [incremented(ns.naming, 'end')],
      0,
    );
    const from = appended[120] as number;

    const read: number[] = [];
    const lastRead = await messaging.eventStore.readAll(counters, from, ({ sequence }) => {
      read.push(sequence);
    });

    expect(read).toEqual(appended.filter((seq) => seq >= from));
    expect(lastRead).toBe(appended.at(-1));
    // Past the last matching event there is nothing to read: no wait, the sequence before `from`.
    const after = (appended.at(-1) as number) + 1;
    await expect(messaging.eventStore.readAll(counters, after, () => undefined)).resolves.toBe(after - 1);
  });

  it('should report an empty subject as sequence 0', async () => {
    await expect(messaging.eventStore.read(subject('nothing-here'))).resolves.toEqual({
      events: [],
      lastSequence: 0,
    });
  });

  it('should let exactly one of two concurrent appends with the same expected sequence win', async () => {
    const s = subject('race');
    const base = await messaging.eventStore.append(s, [incremented(ns.naming, 'race')], 0);

    const results = await Promise.allSettled([
      messaging.eventStore.append(s, [incremented(ns.naming, 'race', 10)], base),
      messaging.eventStore.append(s, [incremented(ns.naming, 'race', 20)], base),
    ]);

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toBeInstanceOf(ConcurrencyError);
    expect((await messaging.eventStore.read(s)).events).toHaveLength(2);
  });

  it('should store a message published twice with the same Nats-Msg-Id once', async () => {
    const s = subject('dedupe');
    const envelope = incremented(ns.naming, 'dedupe');
    const first = await messaging.publisher.publish(envelope);
    const second = await messaging.publisher.publish(envelope);

    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);
    expect((await messaging.eventStore.read(s)).events).toHaveLength(1);
  });

  it('should report an append retried with the same envelope as stored once, at its first sequence', async () => {
    const s = subject('retried');
    const envelope = incremented(ns.naming, 'retried');
    const first = await messaging.eventStore.append(s, [envelope], 0);

    // E.g. after an ack lost on the way: the stream dedupes it and acknowledges the first copy.
    await expect(messaging.eventStore.append(s, [envelope], 0)).resolves.toBe(first);
    expect((await messaging.eventStore.read(s)).events).toHaveLength(1);
  });

  it('should not report as appended an event the stream took for another event of the same id', async () => {
    const taken = incremented(ns.naming, 'id-first', 1);
    await messaging.eventStore.append(subject('id-first'), [taken], 0);
    const reused = { ...incremented(ns.naming, 'id-second', 2), id: taken.id };

    await expect(messaging.eventStore.append(subject('id-second'), [reused], 0)).rejects.toMatchObject({
      code: 'ENVELOPE.ID_REUSED',
    });
    expect(await messaging.eventStore.read(subject('id-second'))).toEqual({ events: [], lastSequence: 0 });
  });

  it('should reject an envelope whose data breaks its schema before it reaches the stream', async () => {
    const bad = createEnvelope({
      type: 'system.CounterIncremented',
      subject: subject('invalid'),
      source: 'test',
      actor: { kind: 'system', id: 'test' },
      data: { by: 'one' },
    });
    await expect(messaging.publisher.publish(bad)).rejects.toMatchObject({ code: 'ENVELOPE.INVALID_DATA' });
    expect((await messaging.eventStore.read(subject('invalid'))).events).toHaveLength(0);
  });

  it('should store none of an append whose later event cannot be stored (it is checked before the first is sent)', async () => {
    const s = subject('all-or-none');
    const unstorable = { ...incremented(ns.naming, 'all-or-none', 2), correlationId: 'half an emoji \ud83d' };

    await expect(
      messaging.eventStore.append(s, [incremented(ns.naming, 'all-or-none', 1), unstorable], 0),
    ).rejects.toMatchObject({ code: 'PAYLOAD.MALFORMED' });
    expect(await messaging.eventStore.read(s)).toEqual({ events: [], lastSequence: 0 });
  });

  describe('handleCommand', () => {
    type State = { total: number };
    type Cmd = { by: number; max: number };
    const decider: Decider<State, Cmd, DomainEvent, void> = {
      initialState: () => ({ total: 0 }),
      evolve: (s, e) => (e.type === 'CounterIncremented' ? { total: s.total + (e.data['by'] as number) } : s),
      decide: (c, s) => (s.total + c.by > c.max ? [] : [{ type: 'CounterIncremented', data: { by: c.by } }]),
    };
    const meta = {
      toEnvelope: (e: DomainEvent, subj: string) =>
        createEnvelope({
          type: `system.${e.type}`,
          subject: subj,
          source: 'test',
          actor: { kind: 'system' as const, id: 't' },
          data: e.data,
        }),
    };

    it('should not answer "nothing to do" from a copy in memory behind the stream: it decides again on the stream', async () => {
      const s = subject('behind');
      const first = await messaging.eventStore.append(s, [incremented(ns.naming, 'behind', 1)], 0);
      // Another writer took it back down; this copy has not seen that yet.
      await messaging.eventStore.append(s, [incremented(ns.naming, 'behind', -1)], first);
      let copy: { state: State; lastSequence: number } | undefined = {
        state: { total: 1 },
        lastSequence: first,
      };
      const stream = streamSource(messaging.eventStore, decider);
      const source = {
        load: (subj: string) => (copy ? Promise.resolve(copy) : stream.load(subj)),
        remember: (_subj: string, entry: typeof copy) => {
          copy = entry;
        },
      };

      // At most 1: on the copy (1) there is nothing to do; on the stream (0) there is.
      const result = await handleCommand(messaging.eventStore, decider, source, {
        subject: s,
        command: { by: 1, max: 1 },
        ctx: undefined,
        meta,
      });

      expect(result.events).toEqual([{ type: 'CounterIncremented', data: { by: 1 } }]);
      expect(result.state).toEqual({ total: 1 });
      expect((await messaging.eventStore.read(s)).events).toHaveLength(3);
    });

    it('should answer "nothing to do" from a copy in memory that is current', async () => {
      const s = subject('current');
      const last = await messaging.eventStore.append(s, [incremented(ns.naming, 'current', 1)], 0);
      let loads = 0;
      const source = {
        load: () => {
          loads += 1;
          return Promise.resolve({ state: { total: 1 }, lastSequence: last });
        },
        remember: () => undefined,
      };

      const result = await handleCommand(messaging.eventStore, decider, source, {
        subject: s,
        command: { by: 1, max: 1 },
        ctx: undefined,
        meta,
      });

      expect(result).toEqual({ events: [], state: { total: 1 }, lastSequence: last });
      expect(loads).toBe(1);
    });

    it('should never overshoot an invariant under concurrent commands (conflicts are retried)', async () => {
      const s = subject('bounded');
      const source = streamSource(messaging.eventStore, decider);
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () =>
          handleCommand(
            messaging.eventStore,
            decider,
            source,
            { subject: s, command: { by: 1, max: 5 }, ctx: undefined, meta },
            20,
          ),
        ),
      );

      const { events } = await messaging.eventStore.read(s);
      const total = events
        .map((e) => toDomainEvent(e.envelope))
        .reduce(decider.evolve, decider.initialState()).total;
      expect(total).toBe(5);
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    });
  });
});

describe('EventStore on JetStream, while the events stream is gone', () => {
  let ns: TestNamespace;
  let messaging: Messaging;

  beforeAll(async () => {
    ns = await createTestNamespace('esgone');
    messaging = await connectTest(ns.natsUrl, ns.namespace);
    await messaging.jsm.streams.delete(ns.naming.streams.events.name);
  });
  afterAll(async () => {
    await messaging.drain();
    await ns.cleanup();
  });

  it('should fail every read as an infrastructure failure (INFRA.UNAVAILABLE), not as a bug', async () => {
    const s = ns.naming.eventSubject('system', 'counter', 'gone');
    for (const read of [
      messaging.eventStore.lastSequenceOf(s),
      messaging.eventStore.read(s),
      messaging.eventStore.streamCreated(),
    ]) {
      await expect(read).rejects.toMatchObject({ name: 'TransientError', code: 'INFRA.UNAVAILABLE' });
    }
  });
});

describe('EventStore on JetStream, over a connection that loses what is in flight', () => {
  let ns: TestNamespace;
  let writer: Messaging;
  let proxy: TcpProxy;
  let reader: Messaging;

  beforeAll(async () => {
    ns = await createTestNamespace('eslossy');
    writer = await connectTest(ns.natsUrl, ns.namespace);
    const url = new URL(ns.natsUrl.split(',')[0] as string);
    proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 4222) });
    reader = await connectTest(proxy.url, ns.namespace, 'reader');
  });
  afterAll(async () => {
    await reader.drain().catch(() => undefined);
    await proxy.stop();
    await writer.drain();
    await ns.cleanup();
  });

  async function appendMany(id: string, count: number): Promise<number> {
    const s = ns.naming.eventSubject('system', 'counter', id);
    let last = 0;
    for (let i = 1; i <= count; i += 100) {
      const batch = Array.from({ length: Math.min(100, count - i + 1) }, (_, n) =>
        incremented(ns.naming, id, i + n),
      );
      last = await writer.eventStore.append(s, batch, last);
    }
    return last;
  }

  it('should read every event, in order, when messages of the read are lost with its connection', async () => {
    const s = ns.naming.eventSubject('system', 'counter', 'mid');
    await appendMany('mid', 2_000);
    // The connection dies with a chunk of the read's first pull on its way: what it held, and the
    // rest of that pull, never arrive; the read's consumer acks nothing, so nothing is sent again.
    const cut = proxy.cutOnServerChunk((chunk) => chunk.includes('"by":400}'));

    const read: number[] = [];
    await reader.eventStore.readAll(s, 1, ({ envelope }) => {
      read.push(envelope.data['by'] as number);
    });
    await cut;

    expect(read).toEqual(Array.from({ length: 2_000 }, (_, i) => i + 1));
  }, 60_000);

  it('should read to the end when the last events of the read are lost with its connection', async () => {
    const s = ns.naming.eventSubject('system', 'counter', 'tail');
    await appendMany('tail', 50);
    const cut = proxy.cutOnServerChunk((chunk) => chunk.includes('"by":50}'));

    const read: number[] = [];
    await reader.eventStore.readAll(s, 1, ({ envelope }) => {
      read.push(envelope.data['by'] as number);
    });
    await cut;

    expect(read).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  }, 60_000);
});
