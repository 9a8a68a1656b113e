import { TransientError, type Decider } from '@bifrost/event-sourcing';
import { createTestNamespace, TcpProxy, waitFor, type TestNamespace } from '@bifrost/testing';
import { createEnvelope } from '../envelope-codec';
import { handleCommand, type DomainEvent } from '../event-store';
import { LiveAggregates, LiveContext } from '../live-state';
import type { Messaging } from '../messaging';
import { connectTest, incremented } from './fixtures';

type Counter = { total: number };
const counter: Decider<Counter, { by: number; max: number }, DomainEvent, void> = {
  initialState: () => ({ total: 0 }),
  evolve: (s, e) => (e.type === 'CounterIncremented' ? { total: s.total + (e.data['by'] as number) } : s),
  decide: (c, s) => (s.total + c.by > c.max ? [] : [{ type: 'CounterIncremented', data: { by: c.by } }]),
};
const silent = { warn: () => undefined, error: () => undefined };

/** How the commands of these tests become envelopes. */
const meta = {
  toEnvelope: (e: DomainEvent, subject: string) =>
    createEnvelope({
      type: `system.${e.type}`,
      subject,
      source: 't',
      actor: { kind: 'system' as const, id: 't' },
      data: e.data,
    }),
};

describe('LiveContext: in-memory state from snapshot + tail, kept current', () => {
  let ns: TestNamespace;
  let writer: Messaging;
  let reader: Messaging;

  beforeAll(async () => {
    ns = await createTestNamespace('live');
    writer = await connectTest(ns.natsUrl, ns.namespace, 'writer');
    reader = await connectTest(ns.natsUrl, ns.namespace, 'reader');
  });
  afterAll(async () => {
    await writer.drain();
    await reader.drain();
    await ns.cleanup();
  });

  function live(m: Messaging, snapshotEvery = 1000) {
    const counters = new LiveAggregates(m, 'system', 'counter', counter);
    const context = new LiveContext(m, 'system', [counters as LiveAggregates<unknown>], {
      snapshotKey: 'test.live',
      snapshotEvery,
      logger: silent,
    });
    return { counters, context };
  }

  it('should rebuild from the stream, then follow events appended by another writer', async () => {
    await writer.publisher.publish(incremented(ns.naming, 'a', 2));
    await writer.publisher.publish(incremented(ns.naming, 'b', 5));
    const { counters, context } = live(reader);
    await context.start();
    try {
      expect(counters.get('a').state.total).toBe(2);
      expect(counters.get('b').state.total).toBe(5);

      const ack = await writer.publisher.publish(incremented(ns.naming, 'a', 3));
      await context.waitUntil(ack.seq);
      expect(counters.get('a')).toEqual({ state: { total: 5 }, lastSequence: ack.seq });
    } finally {
      await context.stop();
    }
  });

  it('should delete its tail’s consumer on the server when it stops', async () => {
    const stream = ns.naming.streams.events.name;
    const consumers = async () => (await writer.jsm.streams.info(stream)).state.consumer_count;
    const before = await consumers();
    const { context } = live(reader);
    await context.start();
    try {
      await waitFor(async () => (await consumers()) === before + 1, { what: 'the tail’s consumer' });
    } finally {
      await context.stop();
    }
    // Left behind, it would stay for the 5 min inactive threshold of an ordered consumer.
    await waitFor(async () => (await consumers()) === before, { what: 'the consumer deleted' });
  });

  it('should apply an event the tail lost with its connection, with no later event to show the gap', async () => {
    const proxy = await TcpProxy.start(natsTarget(ns.natsUrl));
    const cutOff = await connectTest(proxy.url, ns.namespace, 'lossy');
    const { counters, context } = live(cutOff);
    await context.start();
    try {
      // The connection dies with the event on its way to the tail; the tail's consumer acks
      // nothing, so the server does not send it again.
      const cut = proxy.cutOnServerChunk((chunk) => chunk.includes('"by":77}'));
      const ack = await writer.publisher.publish(incremented(ns.naming, 'lost', 77));
      await cut;

      await waitFor(() => counters.get('lost').lastSequence === ack.seq, {
        timeoutMs: 30_000,
        what: 'the event lost on the way applied',
      });
      expect(counters.get('lost').state.total).toBe(77);
    } finally {
      await context.stop();
      await cutOff.drain().catch(() => undefined);
      await proxy.stop();
    }
  }, 40_000);

  it('should apply an event lost again when nats.js made its consumer anew, with no later event to show it', async () => {
    const proxy = await TcpProxy.start(natsTarget(ns.natsUrl));
    const cutOff = await connectTest(proxy.url, ns.namespace, 'reset');
    const { counters, context } = live(cutOff);
    await context.start();
    try {
      // Taken by the tail's consumer: its delivery sequences run ahead of a new consumer's.
      for (const by of [1, 2, 3])
        await context.waitUntil((await writer.publisher.publish(incremented(ns.naming, 'again', by))).seq);
      // A first event is lost with the connection; the next one shows nats.js the gap, and it makes
      // its ordered consumer again from after the last event it delivered. That first event is
      // gone from the stream, so the new consumer sends only the second, and it is lost as well.
      const cut = proxy.cutOnServerChunk((chunk) => chunk.includes('"by":11}'));
      const first = await writer.publisher.publish(incremented(ns.naming, 'first', 11));
      await cut;
      await writer.jsm.streams.deleteMessage(ns.naming.streams.events.name, first.seq);
      let deliveries = 0;
      const cutAgain = proxy.cutOnServerChunk((chunk) => chunk.includes('"by":22}') && ++deliveries === 2);
      const second = await writer.publisher.publish(incremented(ns.naming, 'again', 22));
      await cutAgain;

      await waitFor(() => counters.get('again').lastSequence === second.seq, {
        timeoutMs: 30_000,
        what: 'the event the new consumer lost applied',
      });
      expect(counters.get('again').state.total).toBe(28);
    } finally {
      await context.stop();
      await cutOff.drain().catch(() => undefined);
      await proxy.stop();
    }
  }, 40_000);

  it('should reach the same state after a restart from its snapshot, including events written while it was down', async () => {
    const first = live(reader, 1);
    await first.context.start();
    await writer.publisher.publish(incremented(ns.naming, 'c', 1));
    const ack = await writer.publisher.publish(incremented(ns.naming, 'c', 1));
    await first.context.waitUntil(ack.seq);
    await first.context.stop();
    const whileDown = await writer.publisher.publish(incremented(ns.naming, 'c', 10));

    const second = live(reader);
    const started = await second.context.start();
    try {
      expect(started.fromSnapshot).toBe(true);
      expect(started.replayed).toBe(1);
      expect(second.counters.get('c')).toEqual({ state: { total: 12 }, lastSequence: whileDown.seq });
    } finally {
      await second.context.stop();
    }
  });

  describe('a snapshot folded by other code', () => {
    /** The counter as a later build folds it: each increment counts double. */
    const doubling = {
      ...counter,
      stateVersion: 2,
      evolve: (s: Counter, e: DomainEvent) => ({ total: s.total + 2 * (e.data['by'] as number) }),
    };

    function versioned(snapshotKey: string, deciders: Record<string, typeof counter>) {
      const warnings: string[] = [];
      const aggregates = Object.entries(deciders).map(
        ([type, decider]) => new LiveAggregates(reader, 'system', type, decider),
      );
      const context = new LiveContext(reader, 'system', aggregates as LiveAggregates<unknown>[], {
        snapshotKey,
        logger: { ...silent, warn: (_obj: object, msg: string) => warnings.push(msg) },
      });
      return { aggregates, context, warnings };
    }

    it('should not be resumed by a build of another state version, which replays the context', async () => {
      await writer.publisher.publish(incremented(ns.naming, 'v', 3));
      const before = versioned('test.live.version', { counter });
      await before.context.start();
      await before.context.stop(); // a snapshot of version counter@1

      const after = versioned('test.live.version', { counter: doubling });
      await expect(after.context.start()).resolves.toMatchObject({ fromSnapshot: false });
      try {
        expect(after.aggregates[0]?.get('v').state).toEqual({ total: 6 });
        expect(after.warnings).toEqual([
          'snapshot of state version counter@1, not counter@2 not used; replaying the whole context',
        ]);
      } finally {
        await after.context.stop(); // now a snapshot of version counter@2
      }
      const again = versioned('test.live.version', { counter: doubling });
      await expect(again.context.start()).resolves.toMatchObject({ fromSnapshot: true, replayed: 0 });
      try {
        expect(again.aggregates[0]?.get('v').state).toEqual({ total: 6 });
      } finally {
        await again.context.stop();
      }
    });

    it('should not be resumed by a build that declares an aggregate type the snapshot did not fold', async () => {
      const ack = await writer.publisher.publish(incremented(ns.naming, 'w', 4));
      const before = versioned('test.live.types', { tally: counter });
      await before.context.start();
      await before.context.waitUntil(ack.seq);
      await before.context.stop(); // its position lies past the counter events it never folded

      const after = versioned('test.live.types', { tally: counter, counter });
      await expect(after.context.start()).resolves.toMatchObject({ fromSnapshot: false });
      try {
        expect(after.aggregates[1]?.get('w').state).toEqual({ total: 4 });
      } finally {
        await after.context.stop();
      }
    });
  });

  it('should keep an invariant when two instances decide on the same aggregate concurrently', async () => {
    const one = live(reader);
    const two = live(writer);
    await one.context.start();
    await two.context.start();
    const subject = one.counters.subjectOf('shared');
    try {
      await Promise.all(
        Array.from({ length: 12 }, (_, i) => {
          const side = i % 2 === 0 ? one : two;
          return handleCommand(
            side === one ? reader.eventStore : writer.eventStore,
            counter,
            side.counters,
            {
              subject,
              command: { by: 1, max: 7 },
              ctx: undefined,
              meta,
            },
            30,
          );
        }),
      );
      const { events, lastSequence } = await reader.eventStore.read(subject);
      expect(events).toHaveLength(7);
      await one.context.waitUntil(lastSequence);
      await two.context.waitUntil(lastSequence);
      expect(one.counters.get('shared').state.total).toBe(7);
      expect(two.counters.get('shared').state.total).toBe(7);
    } finally {
      await one.context.stop();
      await two.context.stop();
    }
  });

  it('should prove itself current only up to what its tail has applied', async () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const { context } = live(reader);
    await context.start();
    await writer.publisher.publish(incremented(ns.naming, 'd', 1));
    await context.verify();
    await sleep(600);
    expect(context.staleness).toBeGreaterThanOrEqual(600);
    const asked = performance.now();
    await context.verify();
    // Proven as of when it asked, whatever the verify took.
    expect(context.staleness).toBeLessThanOrEqual(performance.now() - asked);

    await context.stop(); // the tail delivers nothing more
    await writer.publisher.publish(incremented(ns.naming, 'd', 1));
    const outcome = await Promise.race([
      context.verify().then(() => 'proven'),
      sleep(500).then(() => 'still waiting'),
    ]);
    expect(outcome).toBe('still waiting');
    expect(context.staleness).toBeGreaterThanOrEqual(500);
  });

  it('should skip an event type this build does not know, at start-up as in the tail', async () => {
    // A newer build's event (e.g. before a rollback): raw bytes, as no publisher here would validate it.
    const future = (id: string) => {
      const envelope = { ...incremented(ns.naming, id, 100), type: 'system.CounterSquared' };
      return writer.js.publish(envelope.subject, JSON.stringify(envelope));
    };
    await writer.publisher.publish(incremented(ns.naming, 'e', 1));
    await future('e');
    await writer.publisher.publish(incremented(ns.naming, 'e', 2));
    const skipped: number[] = [];
    const counters = new LiveAggregates(reader, 'system', 'counter', counter);
    const context = new LiveContext(reader, 'system', [counters as LiveAggregates<unknown>], {
      snapshotKey: 'test.live.unknown',
      logger: { ...silent, error: (obj: object) => skipped.push((obj as { seq: number }).seq) },
    });
    await context.start();
    try {
      expect(counters.get('e').state.total).toBe(3);
      const inTail = await future('e');
      const after = await writer.publisher.publish(incremented(ns.naming, 'e', 4));
      await context.waitUntil(after.seq);
      expect(counters.get('e').state.total).toBe(7);
      expect(skipped).toHaveLength(2);
      expect(skipped.at(-1)).toBe(inTail.seq);
    } finally {
      await context.stop();
    }
  });

  it('should reload an aggregate another writer changed by reading only what follows its entry', async () => {
    const counters = new LiveAggregates(reader, 'system', 'counter', counter);
    const first = await writer.publisher.publish(incremented(ns.naming, 'g', 1));
    // An entry this instance holds at the first event (a marker total: the subject says 1).
    counters.remember(counters.subjectOf('g'), { state: { total: 100 }, lastSequence: first.seq });
    await writer.publisher.publish(incremented(ns.naming, 'g', 2));
    const last = await writer.publisher.publish(incremented(ns.naming, 'g', 3));

    counters.remember(counters.subjectOf('g'), undefined);

    expect(await counters.load(counters.subjectOf('g'))).toEqual({
      state: { total: 105 },
      lastSequence: last.seq,
    });
  });

  it('should still append to an aggregate whose last event it cannot read, at start-up, in the tail and on a reload', async () => {
    // Text the audit log could not hold, stored before this build refused it: raw bytes.
    const unreadable = (id: string) => {
      const envelope = { ...incremented(ns.naming, id, 100), correlationId: 'lone \ud800' };
      return writer.js.publish(envelope.subject, JSON.stringify(envelope));
    };
    const append = (id: string, by: number) =>
      reader.eventStore.append(
        counters.subjectOf(id),
        [incremented(ns.naming, id, by)],
        counters.get(id).lastSequence,
      );
    await writer.publisher.publish(incremented(ns.naming, 'f', 1));
    await unreadable('f');
    const counters = new LiveAggregates(reader, 'system', 'counter', counter);
    const context = new LiveContext(reader, 'system', [counters as LiveAggregates<unknown>], {
      snapshotKey: 'test.live.unreadable',
      logger: silent,
    });
    await context.start();
    try {
      const first = await append('f', 2);
      await context.waitUntil(first);
      // Waiting for it before it is there: released by the skip itself, as nothing follows it (a
      // verify waits for the context's last event the same way).
      const next = (await reader.jsm.streams.info(ns.naming.streams.events.name)).state.last_seq + 1;
      const reached = context.waitUntil(next);
      const inTail = await unreadable('f');
      expect(inTail.seq).toBe(next);
      await reached;
      const second = await append('f', 3);
      await context.waitUntil(second);
      expect(counters.get('f')).toEqual({ state: { total: 6 }, lastSequence: second });

      const another = await unreadable('f');
      counters.remember(counters.subjectOf('f'), undefined);
      expect(await counters.load(counters.subjectOf('f'))).toEqual({
        state: { total: 6 },
        lastSequence: another.seq,
      });
    } finally {
      await context.stop();
    }
  });
});

describe('LiveContext when the events stream is deleted and created again', () => {
  let ns: TestNamespace;
  let writer: Messaging;
  let reader: Messaging;

  beforeEach(async () => {
    ns = await createTestNamespace('liver');
    writer = await connectTest(ns.natsUrl, ns.namespace, 'writer');
    reader = await connectTest(ns.natsUrl, ns.namespace, 'reader');
    await writer.publisher.publish(incremented(ns.naming, 'a', 2));
    await writer.publisher.publish(incremented(ns.naming, 'a', 3));
  });
  afterEach(async () => {
    await writer.drain();
    await reader.drain();
    await ns.cleanup();
  });

  async function recreateEventsStream(): Promise<void> {
    const name = ns.naming.streams.events.name;
    const { config } = await writer.jsm.streams.info(name);
    await writer.jsm.streams.delete(name);
    await writer.jsm.streams.add(config);
  }

  /**
   * The stream created again, holding counter a's events 10, 1, 1: more than the old state had
   * applied, and the third lies just past the old position (2), where a tail made again would fold
   * it (1) into the old total (5).
   */
  async function recreateWithNewEvents(): Promise<void> {
    await recreateEventsStream();
    for (const by of [10, 1, 1]) await writer.publisher.publish(incremented(ns.naming, 'a', by));
  }

  /** A context of counters read through `m`; `totals`: counter a's total after each event applied. */
  function live(snapshotKey: string, m = reader) {
    const counters = new LiveAggregates(m, 'system', 'counter', counter);
    const rebuilt = { times: 0 };
    const totals: number[] = [];
    const context = new LiveContext(m, 'system', [counters as LiveAggregates<unknown>], {
      snapshotKey,
      logger: silent,
      onRebuilt: () => (rebuilt.times += 1),
      onApplied: () => totals.push(counters.get('a').state.total),
    });
    return { counters, context, rebuilt, totals };
  }

  /** Until counter a holds what the new stream's events 10, 1, 1 make of it. */
  const rebuiltFromNewStream = (counters: LiveAggregates<Counter>) =>
    waitFor(() => counters.get('a').lastSequence === 3 && counters.get('a').state.total === 12, {
      timeoutMs: 20_000,
      what: 'the state rebuilt from the new stream',
    });
  /** Rebuilt from the new stream, and its third event never folded into the old total (5 + 1). */
  const rebuiltWithoutFolding = async (counters: LiveAggregates<Counter>, totals: readonly number[]) => {
    await rebuiltFromNewStream(counters);
    expect(totals).not.toContain(6);
  };

  it('should notice it on verify and rebuild the state from the new stream', async () => {
    const { counters, context, rebuilt } = live('test.live.recreated');
    await context.start();
    try {
      expect(counters.get('a').state.total).toBe(5);
      await recreateWithNewEvents();

      await context.verify();

      expect(counters.get('a')).toEqual({ state: { total: 12 }, lastSequence: 3 });
      expect(rebuilt.times).toBe(1);
      expect(context.staleness).toBeLessThan(5_000);
      const next = await writer.publisher.publish(incremented(ns.naming, 'a', 1));
      await context.waitUntil(next.seq);
      expect(counters.get('a').state.total).toBe(13);
    } finally {
      await context.stop();
    }
  });

  it('should not fold the new stream into the old state when its tail is made again, and rebuild without a verify', async () => {
    const { counters, context, totals } = live('test.live.reset');
    await context.start();
    try {
      expect(counters.get('a')).toEqual({ state: { total: 5 }, lastSequence: 2 });
      await recreateWithNewEvents();

      await rebuiltWithoutFolding(counters, totals);
    } finally {
      await context.stop();
    }
  }, 30_000);

  it('should not fold the new stream into the old state when it was recreated while the service was cut off', async () => {
    const proxy = await TcpProxy.start(natsTarget(ns.natsUrl));
    const cutOff = await connectTest(proxy.url, ns.namespace, 'cut-off');
    const { counters, context, totals } = live('test.live.cut-off', cutOff);
    await context.start();
    try {
      expect(counters.get('a')).toEqual({ state: { total: 5 }, lastSequence: 2 });
      proxy.pause();
      await recreateWithNewEvents();
      // Back: the tail makes its consumer again, once it knows which stream it reads.
      proxy.resume();

      await rebuiltWithoutFolding(counters, totals);
    } finally {
      await context.stop();
      await cutOff.drain();
      await proxy.stop();
    }
  }, 30_000);

  it('should not fold the new stream into the old state when it is recreated under its running tail', async () => {
    const { counters, context, totals } = live('test.live.running');
    await context.start();
    try {
      expect(counters.get('a')).toEqual({ state: { total: 5 }, lastSequence: 2 });
      const events = ns.naming.streams.events.name;
      await waitFor(async () => (await writer.jsm.consumers.list(events).next()).length === 1, {
        what: "the tail's consumer",
      });
      await recreateWithNewEvents();

      await rebuiltWithoutFolding(counters, totals);
    } finally {
      await context.stop();
    }
  }, 30_000);

  it('should rebuild when the stream is recreated while a verify waits for its tail', async () => {
    const proxy = await TcpProxy.start(natsTarget(ns.natsUrl));
    const behind = await connectTest(proxy.url, ns.namespace, 'behind');
    const counters = new LiveAggregates(behind, 'system', 'counter', counter);
    const context = new LiveContext(behind, 'system', [counters as LiveAggregates<unknown>], {
      snapshotKey: 'test.live.behind',
      logger: silent,
      // A slow consumer of what the tail applies: a backlog takes the tail seconds.
      onApplied: () => {
        const until = performance.now() + 0.5;
        while (performance.now() < until);
      },
    });
    await context.start();
    try {
      // A backlog stored while the service was cut off.
      proxy.pause();
      for (let i = 0; i < 5; i += 1) {
        await Promise.all(
          Array.from({ length: 1_000 }, () => writer.publisher.publish(incremented(ns.naming, 'b', 1))),
        );
      }
      proxy.resume();
      await waitFor(() => behind.jsm.streams.info(ns.naming.streams.events.name).then(() => true), {
        timeoutMs: 10_000,
        what: 'the service to be back',
      });
      // It waits for the backlog's last sequence, which the stream loses before the tail gets there.
      const waiting = context.verify();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(counters.get('b').lastSequence).toBeLessThan(5_002);
      await recreateWithNewEvents();

      await expect(waiting).rejects.toThrow('has not applied sequence 5002');
      await rebuiltFromNewStream(counters);
      expect(counters.get('b').lastSequence).toBe(0);
    } finally {
      await context.stop();
      await behind.drain();
      await proxy.stop();
    }
  }, 40_000);

  it('should not take events appended while it verifies for a recreated stream', async () => {
    const errors: string[] = [];
    const counters = new LiveAggregates(reader, 'system', 'counter', counter);
    const context = new LiveContext(reader, 'system', [counters as LiveAggregates<unknown>], {
      snapshotKey: 'test.live.busy',
      logger: { ...silent, error: (_obj: object, msg: string) => errors.push(msg) },
    });
    await context.start();
    try {
      let writing = true;
      const writes = (async () => {
        while (writing) await writer.publisher.publish(incremented(ns.naming, 'busy', 1));
      })();
      for (let i = 0; i < 100; i += 1) await context.verify();
      writing = false;
      await writes;

      expect(errors).toEqual([]);
    } finally {
      await context.stop();
    }
  });

  it('should not decide a command on its old state and the new stream re-read after a conflict', async () => {
    const { counters, context } = live('test.live.conflict');
    await context.start();
    // A tail that has not noticed yet: the state stays as the old stream left it (a: 5 at 2).
    await context.stop();
    await recreateWithNewEvents(); // a: 12 at 3

    // At most 12: the new stream's 12 leaves no room. Its append expecting 2 conflicts; a re-read
    // from 3 on would fold the new stream's 1 into the old 5 and find room.
    const command = handleCommand(reader.eventStore, counter, counters, {
      subject: counters.subjectOf('a'),
      command: { by: 1, max: 12 },
      ctx: undefined,
      meta,
    });

    await expect(command).rejects.toBeInstanceOf(TransientError);
    expect((await reader.eventStore.read(counters.subjectOf('a'))).events).toHaveLength(3);
  });

  it('should not start from a snapshot of the earlier stream', async () => {
    const first = live('test.live.earlier');
    await first.context.start();
    await first.context.stop(); // saves a snapshot at sequence 2
    await recreateEventsStream();
    for (const by of [1, 1, 1]) await writer.publisher.publish(incremented(ns.naming, 'a', by));

    const second = live('test.live.earlier');
    const started = await second.context.start();
    try {
      expect(started.fromSnapshot).toBe(false);
      expect(second.counters.get('a')).toEqual({ state: { total: 3 }, lastSequence: 3 });
    } finally {
      await second.context.stop();
    }
  });
});

function natsTarget(natsUrl: string): { host: string; port: number } {
  const url = new URL(natsUrl.split(',')[0] as string);
  return { host: url.hostname, port: Number(url.port || 4222) };
}
