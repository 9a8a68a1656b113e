import { randomBytes } from 'node:crypto';
import type { Actor } from '@bifrost/contracts';
import type { Decider } from '@bifrost/event-sourcing';
import { createTestNamespace, type TestNamespace } from '@bifrost/testing';
import { CommandRunner, type RunCommand } from '../command-runner';
import type { StoredEnvelope } from '../event-store';
import { KeyedMutex } from '../keyed-mutex';
import { LiveAggregates, LiveState, type LiveStateOptions } from '../live-state';
import type { Messaging } from '../messaging';
import { MAX_SNAPSHOT_BYTES } from '../snapshots';
import { connectTest, incremented } from './fixtures';

type Counter = { total: number };
type Increment = { by: number; max?: number };
type Incremented = { type: 'CounterIncremented'; data: { by: number } };

const decided: number[] = [];
const counter: Decider<Counter, Increment, Incremented, void> = {
  initialState: () => ({ total: 0 }),
  evolve: (s, e) => ({ total: s.total + e.data.by }),
  decide: (c, s) => {
    decided.push(c.by);
    return c.max !== undefined && s.total + c.by > c.max
      ? []
      : [{ type: 'CounterIncremented', data: { by: c.by } }];
  },
};
const silent = { warn: () => undefined, error: () => undefined };
const operator: Actor = { kind: 'operator', id: 'ops-1' };
const watchdog: Actor = { kind: 'system', id: 'watchdog' };

/** The smallest service state: one aggregate type of the test context. */
class CounterState extends LiveState {
  readonly counters: LiveAggregates<Counter>;

  constructor(messaging: Messaging, options: Omit<LiveStateOptions, 'logger'> = {}) {
    super(messaging, 'system', { ...options, logger: silent });
    this.counters = this.aggregate('counter', counter);
  }

  declareLate(): void {
    this.aggregate('late', counter);
  }
}

describe('service kit', () => {
  let ns: TestNamespace;
  let messaging: Messaging;
  let seq = 0;
  const fresh = (prefix: string) => `${prefix}-${(seq += 1)}`;

  beforeAll(async () => {
    ns = await createTestNamespace('kit');
    messaging = await connectTest(ns.natsUrl, ns.namespace, 'kit-service');
  });
  afterAll(async () => {
    await messaging.drain();
    await ns.cleanup();
  });

  describe('CommandRunner', () => {
    function runner(options: Partial<ConstructorParameters<typeof CommandRunner>[1]> = {}) {
      return new CommandRunner(messaging, { context: 'system', source: 'kit-test', ...options });
    }
    /** A fresh counter aggregate (in memory, as a service holds it) and its subject. */
    function target(prefix: string) {
      const aggregates = new LiveAggregates(messaging, 'system', 'counter', counter);
      const id = fresh(prefix);
      return { aggregates, id, subject: aggregates.subjectOf(id) };
    }
    /** The runner's request for one increment on `on`, by the operator unless `more` says otherwise. */
    function increment(
      on: ReturnType<typeof target>,
      command: Increment,
      more: Partial<RunCommand<Counter, Increment, Incremented, void>> = {},
    ): RunCommand<Counter, Increment, Incremented, void> {
      const { aggregates, subject } = on;
      return { decider: counter, aggregates, subject, command, ctx: undefined, actor: operator, ...more };
    }

    it('should append the decided events as `<context>.<Type>` envelopes with the actor, source and causation', async () => {
      const on = target('envelope');
      const { aggregates, id, subject } = on;

      const result = await runner().run(
        increment(on, { by: 2 }, { causation: { causationId: 'cause-1', correlationId: 'corr-1' } }),
      );

      const { events, lastSequence } = await messaging.eventStore.read(subject);
      expect(result).toEqual({ events: [{ type: 'CounterIncremented', data: { by: 2 } }], lastSequence });
      expect(events).toHaveLength(1);
      expect(events[0]?.envelope).toMatchObject({
        type: 'system.CounterIncremented',
        subject,
        source: 'kit-test',
        actor: operator,
        data: { by: 2 },
        causationId: 'cause-1',
        correlationId: 'corr-1',
      });
      expect(aggregates.get(id)).toEqual({ state: { total: 2 }, lastSequence });
    });

    it('should leave causation and correlation out when the command has none', async () => {
      const on = target('no-cause');

      await runner().run(increment(on, { by: 1 }, { causation: {} }));

      const [stored] = (await messaging.eventStore.read(on.subject)).events;
      expect(stored?.envelope).not.toHaveProperty('causationId');
      expect(stored?.envelope).not.toHaveProperty('correlationId');
    });

    it('should attribute each event to the actor `actorFor` names', async () => {
      const on = target('actor-for');
      const run = runner({
        actorFor: (event, actor) => ((event.data['by'] as number) >= 10 ? watchdog : actor),
      });

      await run.run(increment(on, { by: 1 }));
      await run.run(increment(on, { by: 10 }));

      const { events } = await messaging.eventStore.read(on.subject);
      expect(events.map((e) => e.envelope.actor)).toEqual([operator, watchdog]);
    });

    it('should append nothing for an empty decision and report the unchanged sequence', async () => {
      const on = target('empty');
      const run = runner();
      const first = await run.run(increment(on, { by: 3 }));

      const second = await run.run(increment(on, { by: 3, max: 5 }));

      expect(second).toEqual({ events: [], lastSequence: first.lastSequence });
      expect((await messaging.eventStore.read(on.subject)).events).toHaveLength(1);
    });

    it('should run commands with the same key one after another, in the order they came', async () => {
      const on = target('serial');
      const run = runner();

      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => run.run(increment(on, { by: i + 1 }, { key: 'serial' }))),
      );

      const { events } = await messaging.eventStore.read(on.subject);
      expect(events.map((e) => e.envelope.data['by'])).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(results.map((r) => r.lastSequence)).toEqual(events.map((e) => e.sequence));
    });

    it('should wait for the holder of a shared lock key before deciding', async () => {
      const locks = new KeyedMutex();
      const on = target('shared-lock');
      decided.length = 0;

      const held = locks.run('shared', async () => {
        await messaging.eventStore.read(on.subject); // a real round trip while holding the key
        return [...decided];
      });
      const ran = runner({ locks }).run(increment(on, { by: 7 }, { key: 'shared' }));

      await expect(held).resolves.toEqual([]);
      await expect(ran).resolves.toMatchObject({ events: [{ data: { by: 7 } }] });
      expect(decided).toEqual([7]);
    });
  });

  describe('LiveState', () => {
    it('should start once however often it is asked, and follow the context from then on', async () => {
      const id = fresh('follow');
      await messaging.publisher.publish(incremented(ns.naming, id, 4));
      const state = new CounterState(messaging);
      const applied: StoredEnvelope[] = [];
      state.onApplied((stored) => applied.push(stored));
      try {
        const first = state.start();
        await state.onModuleInit();
        expect(state.start()).toBe(first);
        expect(state.counters.get(id).state.total).toBe(4);

        const ack = await messaging.publisher.publish(incremented(ns.naming, id, 5));
        await state.context.waitUntil(ack.seq);
        expect(state.counters.get(id)).toEqual({ state: { total: 9 }, lastSequence: ack.seq });
        expect(applied.map((s) => s.sequence)).toContain(ack.seq);
      } finally {
        await state.beforeApplicationShutdown();
      }
    });

    it('should leave a snapshot under `<service>.state` on shutdown that the next start resumes from', async () => {
      const id = fresh('snapshot');
      const ack = await messaging.publisher.publish(incremented(ns.naming, id, 6));
      const first = new CounterState(messaging);
      await first.onModuleInit();
      await first.context.waitUntil(ack.seq);
      await first.beforeApplicationShutdown();

      const { snapshot } = await messaging.snapshots.load<unknown>('kit-service.state');
      expect(snapshot?.lastSequence).toBeGreaterThanOrEqual(ack.seq);

      const second = new CounterState(messaging);
      try {
        await expect(second.start()).resolves.toMatchObject({ fromSnapshot: true, replayed: 0 });
        expect(second.counters.get(id).state.total).toBe(6);
      } finally {
        await second.beforeApplicationShutdown();
      }
    });

    it('should store a snapshot by its compressed size, and say when one is too large to store', async () => {
      const key = `kit.${fresh('sizes')}`;
      const snapshot = (text: string) => ({
        state: { text },
        lastSequence: 1,
        takenAt: new Date().toISOString(),
      });
      // 2 MB of JSON that compresses to a few kB: stored (it was skipped by its uncompressed size).
      const repetitive = 'reservation '.repeat(170_000);
      await expect(messaging.snapshots.save(key, snapshot(repetitive))).resolves.toMatchObject({
        stored: true,
      });
      expect((await messaging.snapshots.load<{ text: string }>(key)).snapshot?.state.text).toBe(repetitive);
      // 1.5 MB that does not compress: not stored, the previous snapshot stays.
      const noise = randomBytes(1_100_000).toString('base64');
      const result = await messaging.snapshots.save(key, snapshot(noise));
      expect(result).toMatchObject({ stored: false, bytes: expect.any(Number) });
      expect(result.bytes).toBeGreaterThan(MAX_SNAPSHOT_BYTES);
      expect((await messaging.snapshots.load<{ text: string }>(key)).snapshot?.state.text).toBe(repetitive);
    });

    it('should not start at module init when told so, only on start()', async () => {
      const id = fresh('on-demand');
      const ack = await messaging.publisher.publish(incremented(ns.naming, id, 1));
      const state = new CounterState(messaging, { snapshotKey: `kit.${id}`, startOnModuleInit: false });
      try {
        await state.onModuleInit();
        expect(state.context.lastSequence).toBe(0);
        expect(state.counters.has(id)).toBe(false);

        await state.start();
        expect(state.context.lastSequence).toBeGreaterThanOrEqual(ack.seq);
        expect(state.counters.get(id).state.total).toBe(1);
      } finally {
        await state.beforeApplicationShutdown();
      }
      // Never started: shutting down saves nothing.
      const idle = new CounterState(messaging, { snapshotKey: `kit.${id}.idle`, startOnModuleInit: false });
      await idle.beforeApplicationShutdown();
      await expect(messaging.snapshots.load(`kit.${id}.idle`)).resolves.toEqual({});
    });

    it('should refuse an aggregate declared after start', async () => {
      const state = new CounterState(messaging, { snapshotKey: `kit.${fresh('late')}` });
      try {
        await state.start();
        expect(() => state.declareLate()).toThrow(/declared before start/);
      } finally {
        await state.beforeApplicationShutdown();
      }
    });
  });
});
