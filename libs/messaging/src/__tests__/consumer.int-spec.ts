import { jetstream } from '@nats-io/jetstream';
import { TransientError, ValidationError } from '@bifrost/event-sourcing';
import { createTestNamespace, TcpProxy, waitFor, type TestNamespace } from '@bifrost/testing';
import { Type } from '@sinclair/typebox';
import { Catalogue, defineMessage, type Envelope } from '@bifrost/contracts';
import { ConsumerRunner, type ConsumerObserver, type ConsumerSpec, type EnvelopeHandler } from '../consumer';
import { parkDeadLetter, type DeadLetter } from '../dlq';
import { decodeJson, encodeJson } from '../envelope-codec';
import { MAX_ENVELOPE_DEPTH } from '../json-depth';
import type { Messaging } from '../messaging';
import { uuidv7 } from '../uuid';
import { connectTest, depthOf, nestedJson, testCatalogue, work } from './fixtures';

const silent = { warn: () => undefined, error: () => undefined };

describe('ConsumerRunner', () => {
  let ns: TestNamespace;
  let messaging: Messaging;
  const runners: ConsumerRunner[] = [];

  beforeAll(async () => {
    ns = await createTestNamespace('cons');
    messaging = await connectTest(ns.natsUrl, ns.namespace);
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
  });
  afterAll(async () => {
    await messaging.drain();
    await ns.cleanup();
  });

  function run(
    m: Messaging,
    engine: string,
    handler: EnvelopeHandler,
    overrides: Partial<ConsumerSpec> = {},
    observer?: ConsumerObserver,
  ) {
    const runner = new ConsumerRunner(
      m.js,
      m.jsm,
      m.naming,
      {
        service: 'test',
        purpose: engine,
        stream: 'ingest',
        filter: `bifrost.ingest.kpi.${engine}`,
        maxDeliver: 3,
        backoffBaseMs: 10,
        ...overrides,
      },
      handler,
      silent,
      testCatalogue,
      observer,
    );
    runners.push(runner);
    return runner.start();
  }

  async function deadLetters(): Promise<DeadLetter[]> {
    const { events } = { events: [] as DeadLetter[] };
    const info = await messaging.jsm.streams.info(ns.naming.streams.dlq.name);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
      const msg = await messaging.jsm.streams
        .getMessage(ns.naming.streams.dlq.name, { seq })
        .catch(() => undefined);
      if (msg) events.push(decodeJson(msg.data) as DeadLetter);
    }
    return events;
  }

  it('should redeliver a message whose handler fails transiently until it succeeds', async () => {
    const attempts: number[] = [];
    await run(messaging, 'flaky', async (_envelope, delivery) => {
      attempts.push(delivery.deliveryCount);
      if (delivery.deliveryCount < 3) throw new TransientError('database busy');
    });

    await messaging.publisher.publish(work(ns.naming, 'flaky', 1));

    await waitFor(() => attempts.length === 3, { what: 'three attempts' });
    const info = await waitFor(async () => {
      const i = await messaging.jsm.consumers.info(ns.naming.streams.ingest.name, 'test__flaky');
      return i.num_ack_pending === 0 && i.num_pending === 0 ? i : undefined;
    });
    expect(attempts).toEqual([1, 2, 3]);
    expect(info.delivered.stream_seq).toBeGreaterThan(0);
  });

  it('should handle an ordered route in stream order across two instances and a retry', async () => {
    for (let n = 1; n <= 6; n += 1) await messaging.publisher.publish(work(ns.naming, 'ordered', n));
    const handled: number[] = [];
    const handler: EnvelopeHandler = async (envelope, delivery) => {
      const n = envelope.data['n'] as number;
      // The first message fails once: unordered, the next ones overtake it during its back-off.
      if (n === 1 && delivery.deliveryCount === 1) throw new TransientError('database busy');
      handled.push(n);
    };
    const second = await connectTest(ns.natsUrl, ns.namespace);
    try {
      await run(messaging, 'ordered', handler, { ordered: true });
      await run(second, 'ordered', handler, { ordered: true });

      await waitFor(() => handled.length === 6, { what: 'six messages handled' });
      expect(handled).toEqual([1, 2, 3, 4, 5, 6]);
      const info = await messaging.jsm.consumers.info(ns.naming.streams.ingest.name, 'test__ordered');
      expect(info.config.max_ack_pending).toBe(1);
    } finally {
      await Promise.all(runners.splice(0).map((r) => r.stop()));
      await second.drain();
    }
  });

  it('should park a poison message on the DLQ with its error after max deliveries and keep consuming', async () => {
    const handled: number[] = [];
    await run(messaging, 'poison', async (envelope) => {
      if (envelope.data['poison']) throw new TransientError('always fails');
      handled.push(envelope.data['n'] as number);
    });

    await messaging.publisher.publish(work(ns.naming, 'poison', 1, true));
    await messaging.publisher.publish(work(ns.naming, 'poison', 2));

    const letters = await waitFor(
      async () => {
        const all = (await deadLetters()).filter((l) => l.consumer === 'test__poison');
        return all.length > 0 ? all : undefined;
      },
      { what: 'a dead letter' },
    );
    await waitFor(() => handled.includes(2), { what: 'the next message' });

    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      deliveryCount: 3,
      error: { code: 'INFRA.UNAVAILABLE', message: 'always fails' },
    });
    expect(JSON.parse(letters[0]?.payload ?? '{}').data).toEqual({ n: 1, poison: true });

    await messaging.publisher.publish(work(ns.naming, 'poison', 3));
    await waitFor(() => handled.includes(3), { what: 'consumption after the DLQ' });
  });

  it('should count its own attempts, not deliveries handed back unhandled (a buffer naked at each stop)', async () => {
    const durable = 'test__handedback';
    // The durable consumer exists (as after an earlier start), and the message is delivered and
    // handed back unhandled twice: the server counts 2 deliveries that were no attempt.
    await run(messaging, 'handedback', async () => undefined);
    await (runners.pop() as ConsumerRunner).stop();
    await messaging.publisher.publish(work(ns.naming, 'handedback', 1));
    const consumer = await messaging.js.consumers.get(ns.naming.streams.ingest.name, durable);
    for (let i = 0; i < 2; i += 1) {
      for await (const msg of await consumer.fetch({ max_messages: 1, expires: 2_000 })) msg.nak();
    }

    const attempts: number[] = [];
    await run(messaging, 'handedback', async (_envelope, delivery) => {
      attempts.push(delivery.deliveryCount);
      throw new TransientError('fails');
    });

    await waitFor(async () => (await deadLetters()).some((l) => l.consumer === durable), {
      what: 'the message parked',
    });
    // maxDeliver 3: three attempts of the handler, whatever the server counted before them.
    expect(attempts).toEqual([3, 4, 5]);
  });

  it('should retry a transient failure past max deliveries on an until-applied route, never parking it', async () => {
    const attempts: number[] = [];
    await run(
      messaging,
      'tightening',
      async (_envelope, delivery) => {
        attempts.push(delivery.deliveryCount);
        if (delivery.deliveryCount < 7) throw new TransientError('stream refuses writes');
      },
      { untilApplied: true, ordered: true, backoffMaxMs: 20 },
    );
    await messaging.publisher.publish(work(ns.naming, 'tightening', 1));

    await waitFor(() => attempts.length === 7, { what: 'seven attempts (max deliveries 3)' });
    await waitFor(async () => {
      const i = await messaging.jsm.consumers.info(ns.naming.streams.ingest.name, 'test__tightening');
      return i.num_ack_pending === 0 && i.num_pending === 0;
    });
    expect(attempts).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect((await deadLetters()).filter((l) => l.consumer === 'test__tightening')).toEqual([]);
  });

  it('should keep one letter per parked message: a park repeated is a no-op, another message at a reused sequence is not', async () => {
    const letter = (payload: string, storedAt: string): DeadLetter => ({
      service: 'test',
      consumer: 'test__reused-seq',
      stream: ns.naming.streams.ingest.name,
      streamSequence: 1,
      storedAt,
      subject: 'x',
      deliveryCount: 1,
      error: { code: 'PAYLOAD.MALFORMED', message: 'payload is not valid UTF-8 JSON' },
      parkedAt: new Date().toISOString(),
      payload,
      payloadEncoding: 'utf-8',
      headers: {},
    });
    const first = letter('first', '2026-12-07T10:00:00.000Z');
    await expect(parkDeadLetter(messaging.js, ns.naming, first)).resolves.toEqual({ duplicate: false });
    await expect(
      parkDeadLetter(messaging.js, ns.naming, { ...first, parkedAt: new Date().toISOString() }),
    ).resolves.toEqual({ duplicate: true });
    // The stream deleted and created again: its sequence 1 is another message, stored later.
    await expect(
      parkDeadLetter(messaging.js, ns.naming, letter('second', '2026-12-07T10:01:00.000Z')),
    ).resolves.toEqual({ duplicate: false });

    const parked = (await deadLetters()).filter((l) => l.consumer === 'test__reused-seq');
    expect(parked.map((l) => l.payload)).toEqual(['first', 'second']);
  });

  it('should retry on an until-applied route a handler whose event-store read JetStream cannot answer, never parking it', async () => {
    const events = ns.naming.streams.events.name;
    const { config } = await messaging.jsm.streams.info(events);
    const attempts: number[] = [];
    let applied = false;
    await run(
      messaging,
      'reads-stream',
      async (_envelope, delivery) => {
        attempts.push(delivery.deliveryCount);
        // A command that changes nothing still reads where its aggregate stands (handleCommand).
        await messaging.eventStore.lastSequenceOf(ns.naming.eventSubject('system', 'counter', 'x'));
        applied = true;
      },
      { untilApplied: true, ordered: true, backoffMaxMs: 20 },
    );
    await messaging.jsm.streams.delete(events);
    try {
      await messaging.publisher.publish(work(ns.naming, 'reads-stream', 1));
      await waitFor(() => attempts.length >= 6, { what: 'attempts past max deliveries (3)' });
    } finally {
      await messaging.jsm.streams.add(config);
    }
    await waitFor(() => applied, { what: 'applied once the stream is back' });
    expect((await deadLetters()).filter((l) => l.consumer === 'test__reads-stream')).toEqual([]);
  });

  it('should still park a message whose handler fails unexpectedly (a bug) after max deliveries on an until-applied route', async () => {
    const attempts: number[] = [];
    await run(
      messaging,
      'tightening-bug',
      async (_envelope, delivery) => {
        attempts.push(delivery.deliveryCount);
        throw new TypeError('cannot read properties of undefined');
      },
      { untilApplied: true },
    );
    await messaging.publisher.publish(work(ns.naming, 'tightening-bug', 1));

    const letter = await waitFor(async () =>
      (await deadLetters()).find((l) => l.consumer === 'test__tightening-bug'),
    );
    expect(letter.deliveryCount).toBe(3);
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('should retry and then park a message whose handler fails with no error at all (a rejection without a reason)', async () => {
    const attempts: number[] = [];
    await run(
      messaging,
      'no-reason',
      async (_envelope, delivery) => {
        attempts.push(delivery.deliveryCount);
        // What a library that rejects with nothing (`reject()`) hands on.
        await new Promise<void>((_resolve, reject) => reject(undefined as unknown as Error));
      },
      { ackWaitMs: 1_000 },
    );
    await messaging.publisher.publish(work(ns.naming, 'no-reason', 1));

    const letter = await waitFor(
      async () => (await deadLetters()).find((l) => l.consumer === 'test__no-reason'),
      {
        timeoutMs: 15_000,
        what: 'a dead letter',
      },
    );
    expect(letter).toMatchObject({ deliveryCount: 3, error: { code: 'INTERNAL.ERROR' } });
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('should still park a permanently failing message at once on an until-applied route', async () => {
    let calls = 0;
    await run(
      messaging,
      'tightening-invalid',
      async () => {
        calls += 1;
        throw new ValidationError('unknown engine', { code: 'ENGINE.UNKNOWN' });
      },
      { untilApplied: true },
    );
    await messaging.publisher.publish(work(ns.naming, 'tightening-invalid', 1));

    const letter = await waitFor(async () =>
      (await deadLetters()).find((l) => l.consumer === 'test__tightening-invalid'),
    );
    expect(letter).toMatchObject({ deliveryCount: 1, error: { code: 'ENGINE.UNKNOWN' } });
    // When the stream stored the original: a moment ago, not when it was parked.
    expect(Date.now() - Date.parse(letter.storedAt)).toBeLessThan(60_000);
    expect(Date.parse(letter.storedAt)).toBeLessThanOrEqual(Date.parse(letter.parkedAt));
    expect(calls).toBe(1);
  });

  it('should settle a parked message for good: never delivered again, and an ordered route goes on', async () => {
    // nats-server 2.9 ignores a term that carries a reason: the message would come back after
    // every ack wait, be parked again, and hold an ordered route's one slot for ever.
    let poisonCalls = 0;
    const handled: number[] = [];
    await run(
      messaging,
      'settled',
      async (envelope) => {
        if (envelope.data['poison']) {
          poisonCalls += 1;
          throw new ValidationError('never valid', { code: 'TEST.INVALID' });
        }
        handled.push(envelope.data['n'] as number);
      },
      { ordered: true, ackWaitMs: 1_000 },
    );
    await messaging.publisher.publish(work(ns.naming, 'settled', 1, true));
    await messaging.publisher.publish(work(ns.naming, 'settled', 2));

    await waitFor(() => handled.includes(2), { what: 'the message after the parked one' });
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // three ack waits
    expect(poisonCalls).toBe(1);
    const info = await messaging.jsm.consumers.info(ns.naming.streams.ingest.name, 'test__settled');
    expect(info).toMatchObject({ num_ack_pending: 0, num_redelivered: 0 });
    expect((await deadLetters()).filter((l) => l.consumer === 'test__settled')).toHaveLength(1);
  }, 15_000);

  it('should re-create its durable consumer when it is deleted, and go on', async () => {
    const handled: number[] = [];
    await run(messaging, 'recreated', async (envelope) => {
      handled.push(envelope.data['n'] as number);
    });
    await messaging.publisher.publish(work(ns.naming, 'recreated', 1));
    await waitFor(() => handled.includes(1), { what: 'the first message' });

    await messaging.jsm.consumers.delete(ns.naming.streams.ingest.name, 'test__recreated');
    await messaging.publisher.publish(work(ns.naming, 'recreated', 2));

    await waitFor(() => handled.includes(2), { what: 'the message after the consumer was deleted' });
    const info = await messaging.jsm.consumers.info(ns.naming.streams.ingest.name, 'test__recreated');
    expect(info.config.durable_name).toBe('test__recreated');
  });

  it('should keep a message it is still handling past the ack wait from being delivered again', async () => {
    const deliveries: number[] = [];
    await run(
      messaging,
      'slow',
      async (_envelope, delivery) => {
        deliveries.push(delivery.deliveryCount);
        await new Promise((resolve) => setTimeout(resolve, 5_000)); // two and a half ack waits
      },
      // In progress every second: a stall of up to a second on a loaded machine is no redelivery.
      { ackWaitMs: 2_000 },
    );
    await messaging.publisher.publish(work(ns.naming, 'slow', 1));

    await waitFor(
      async () =>
        (await messaging.jsm.consumers.info(ns.naming.streams.ingest.name, 'test__slow')).num_ack_pending ===
          0 && deliveries.length > 0,
      { timeoutMs: 20_000, what: 'the slow message acknowledged' },
    );
    expect(deliveries).toEqual([1]);
  }, 30_000);

  it('should keep messages waiting behind a slow one from being delivered again', async () => {
    const handled: string[] = [];
    await run(
      messaging,
      'queued',
      async (envelope, delivery) => {
        handled.push(`${String(envelope.data['n'])}#${delivery.deliveryCount}`);
        if (envelope.data['n'] === 1) await new Promise((resolve) => setTimeout(resolve, 5_000)); // two and a half ack waits
      },
      { ackWaitMs: 2_000 },
    );
    // Published together: the pull brings all four at once, three of them to wait behind the first.
    await Promise.all([1, 2, 3, 4].map((n) => messaging.publisher.publish(work(ns.naming, 'queued', n))));

    await waitFor(
      async () =>
        (await messaging.jsm.consumers.info(ns.naming.streams.ingest.name, 'test__queued'))
          .num_ack_pending === 0 && handled.length >= 4,
      { timeoutMs: 20_000, what: 'all four acknowledged' },
    );
    await new Promise((resolve) => setTimeout(resolve, 4_000)); // two more ack waits: nothing comes back
    expect(handled.sort()).toEqual(['1#1', '2#1', '3#1', '4#1']);
  }, 40_000);

  it('should report its lag: what waits at start, then what is left after each message', async () => {
    await Promise.all([1, 2, 3].map((n) => messaging.publisher.publish(work(ns.naming, 'lagging', n))));
    const reports: [string, number][] = [];
    const handled: number[] = [];
    await run(
      messaging,
      'lagging',
      async (envelope) => {
        handled.push(envelope.data['n'] as number);
      },
      {},
      { pending: (consumer, pending) => reports.push([consumer, pending]), parked: () => undefined },
    );

    await waitFor(() => handled.length === 3 && reports.length === 4, { what: 'three messages handled' });
    expect(reports).toEqual([
      ['test__lagging', 3],
      ['test__lagging', 2],
      ['test__lagging', 1],
      ['test__lagging', 0],
    ]);
  });

  it('should report its lag after messages it parks or retries too, and count what it parks', async () => {
    await Promise.all([1, 2, 3].map((n) => messaging.publisher.publish(work(ns.naming, 'lagbad', n))));
    const reports: number[] = [];
    const parked: string[] = [];
    let first = true;
    await run(
      messaging,
      'lagbad',
      async (envelope) => {
        if (envelope.data['n'] === 2) throw new ValidationError('bad', { code: 'TEST.BAD' });
        if (envelope.data['n'] === 3 && first) {
          first = false;
          throw new TransientError('later');
        }
      },
      {},
      { pending: (_consumer, pending) => reports.push(pending), parked: (consumer) => parked.push(consumer) },
    );

    await waitFor(() => reports.length === 5, { what: 'three messages and one retry handled' });
    // 3 at start; 1, 2 and 3 delivered with 2, 1 and 0 behind them; 3 again with 0 behind it.
    expect(reports).toEqual([3, 2, 1, 0, 0]);
    expect(parked).toEqual(['test__lagbad']);
  });

  it('should report a growing lag from the server while a handler is stuck', async () => {
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const reports: number[] = [];
    await messaging.publisher.publish(work(ns.naming, 'lagstuck', 1));
    await run(
      messaging,
      'lagstuck',
      async () => {
        await stuck;
      },
      { ackWaitMs: 400 },
      { pending: (_consumer, pending) => reports.push(pending), parked: () => undefined },
    );
    await waitFor(() => reports.length >= 2, { what: 'a report while the handler is stuck' });
    await Promise.all([2, 3].map((n) => messaging.publisher.publish(work(ns.naming, 'lagstuck', n))));

    // The message in hand and the two behind it, counted by the server while nothing was acked.
    await waitFor(() => reports.includes(3), { what: 'the lag to grow to 3' });
    release();
  });

  it('should park a permanently failing message at once, without retries', async () => {
    let calls = 0;
    await run(messaging, 'permanent', async () => {
      calls += 1;
      throw new ValidationError('unknown engine', { code: 'ENGINE.UNKNOWN' });
    });
    await messaging.publisher.publish(work(ns.naming, 'permanent', 1));

    const letter = await waitFor(async () =>
      (await deadLetters()).find((l) => l.consumer === 'test__permanent'),
    );
    expect(letter.error.code).toBe('ENGINE.UNKNOWN');
    expect(letter.deliveryCount).toBe(1);
    expect(calls).toBe(1);
  });

  it('should park a message that is not a valid envelope with the reason, and go on', async () => {
    const handled: Envelope[] = [];
    await run(messaging, 'garbage', async (envelope) => {
      handled.push(envelope);
    });
    const js = jetstream(messaging.nc);
    await js.publish(ns.naming.ingestSubject('kpi', 'garbage'), new TextEncoder().encode('{not json'));
    await js.publish(ns.naming.ingestSubject('kpi', 'garbage'), encodeJson({ hello: 'world' }));
    await messaging.publisher.publish(work(ns.naming, 'garbage', 7));

    await waitFor(() => handled.length === 1, { what: 'the valid message' });
    const letters = await waitFor(async () => {
      const all = (await deadLetters()).filter((l) => l.consumer === 'test__garbage');
      return all.length === 2 ? all : undefined;
    });
    expect(letters.map((l) => l.error.code).sort()).toEqual(['ENVELOPE.INVALID', 'PAYLOAD.MALFORMED']);
    expect(letters.find((l) => l.error.code === 'PAYLOAD.MALFORMED')?.payload).toBe('{not json');
  });

  it('should park an envelope nested too deep at once, as malformed, before a handler walks it', async () => {
    // An ingest type with a free-form field, as a gate approval's action.params is.
    const DetailReported = defineMessage({
      type: 'system.DetailReported',
      version: 1,
      kind: 'ingest',
      producer: 'test',
      consumers: [],
      subject: 'bifrost.ingest.kpi.{engineId}',
      description: 'test ingest with a free-form field',
      data: Type.Object({ detail: Type.Unknown() }, { additionalProperties: false }),
    });
    const depths: number[] = [];
    const runner = new ConsumerRunner(
      messaging.js,
      messaging.jsm,
      messaging.naming,
      { service: 'test', purpose: 'deep', stream: 'ingest', filter: 'bifrost.ingest.kpi.deep' },
      // Naively recursive, as canonical hashing is: 20000 levels would overflow its stack.
      async (envelope) => {
        depths.push(depthOf(envelope.data));
      },
      silent,
      new Catalogue([DetailReported], []),
    );
    runners.push(runner);
    await runner.start();
    const envelope = (detail: string) =>
      new TextEncoder().encode(
        `{"id":"${uuidv7()}","type":"system.DetailReported","version":1,` +
          `"occurredAt":"${new Date().toISOString()}","source":"test",` +
          `"subject":"${ns.naming.ingestSubject('kpi', 'deep')}","actor":{"kind":"engine","id":"deep"},` +
          `"data":{"detail":${detail}}}`,
      );
    const js = jetstream(messaging.nc);
    await js.publish(ns.naming.ingestSubject('kpi', 'deep'), envelope(nestedJson(20_000)));
    await js.publish(ns.naming.ingestSubject('kpi', 'deep'), envelope(nestedJson(MAX_ENVELOPE_DEPTH - 2)));

    const letter = await waitFor(async () => (await deadLetters()).find((l) => l.consumer === 'test__deep'), {
      what: 'the letter of the deep envelope',
    });
    await waitFor(() => depths.length === 1, { what: 'the envelope after it' });
    expect(letter.error).toEqual({
      code: 'PAYLOAD.MALFORMED',
      message: `payload is nested deeper than ${MAX_ENVELOPE_DEPTH} levels`,
    });
    expect(letter.deliveryCount).toBe(1);
    // The envelope at the limit is handled: data, then detail's value from the envelope's level 3.
    expect(depths).toEqual([MAX_ENVELOPE_DEPTH - 1]);
  });

  it('should park a message whose letter would exceed a NATS message, with its payload cut', async () => {
    const handled: number[] = [];
    await run(messaging, 'huge', async (envelope) => {
      handled.push(envelope.data['n'] as number);
    });
    // 900 kB of quotes: malformed JSON whose letter, escaped, would be 1.8 MB (max_payload is 1 MiB).
    const huge = '"'.repeat(900_000);
    await jetstream(messaging.nc).publish(
      ns.naming.ingestSubject('kpi', 'huge'),
      new TextEncoder().encode(huge),
    );
    await messaging.publisher.publish(work(ns.naming, 'huge', 8));

    const letter = await waitFor(async () => (await deadLetters()).find((l) => l.consumer === 'test__huge'), {
      what: 'the letter of the oversized message',
    });
    await waitFor(() => handled.includes(8), { what: 'the message after it' });
    expect(letter).toMatchObject({ payloadTruncated: true, payloadBytes: 900_000, payloadEncoding: 'utf-8' });
    expect(letter.error.code).toBe('PAYLOAD.MALFORMED');
    expect(letter.payload.length).toBeGreaterThan(100_000);
    expect(huge.startsWith(letter.payload)).toBe(true);
    const stored = await messaging.jsm.streams.getMessage(letter.stream, { seq: letter.streamSequence });
    expect(stored?.data.length).toBe(900_000);
  });

  it('should park a message whose error is larger than a NATS message, with the error cut', async () => {
    const handled: number[] = [];
    // A schema check listing every problem can say more than the message it is about: here 2 MB.
    const problems = Array.from({ length: 50_000 }, (_, i) => `/ must NOT have the property "k${i}"`);
    await run(messaging, 'wordy', async (envelope) => {
      const n = envelope.data['n'] as number;
      if (n === 1)
        throw new ValidationError(problems.join('; '), { code: 'TEST.WORDY', details: { problems } });
      handled.push(n);
    });
    await messaging.publisher.publish(work(ns.naming, 'wordy', 1));
    await messaging.publisher.publish(work(ns.naming, 'wordy', 2));

    const letter = await waitFor(
      async () => (await deadLetters()).find((l) => l.consumer === 'test__wordy'),
      {
        what: 'the letter of the message with the long error',
      },
    );
    await waitFor(() => handled.includes(2), { what: 'the message after it' });
    expect(letter.error.code).toBe('TEST.WORDY');
    expect(letter.error.message).toMatch(
      /^\/ must NOT have the property "k0"; .*… \(\d+ more characters\)$/s,
    );
    expect(letter.error.message.length).toBeLessThan(9_000);
    // Details too large to carry are left out; the payload is whole.
    expect(letter.error).not.toHaveProperty('details');
    expect(letter.payloadTruncated).toBeUndefined();
  });

  it('should resume without loss when its connection is cut mid-stream', async () => {
    const { hostname, port } = new URL(ns.natsUrl);
    const proxy = await TcpProxy.start({ host: hostname, port: Number(port) });
    const consumerSide = await connectTest(proxy.url, ns.namespace);
    try {
      const seen = new Set<number>();
      // Messages in flight when the connection dies are redelivered after ack_wait: keep it short.
      await run(
        consumerSide,
        'cut',
        async (envelope) => {
          seen.add(envelope.data['n'] as number);
        },
        { ackWaitMs: 1_000 },
      );
      const total = 300;
      for (let n = 0; n < total; n += 1) {
        await messaging.publisher.publish(work(ns.naming, 'cut', n));
        if (n === 100 || n === 200) {
          await waitFor(() => seen.size > n - 50, { what: 'progress before the cut' });
          proxy.dropConnections();
        }
      }
      await waitFor(() => seen.size === total, { timeoutMs: 30_000, what: `all ${total} messages` });
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    } finally {
      await Promise.all(runners.splice(0).map((r) => r.stop()));
      await consumerSide.drain().catch(() => undefined);
      await proxy.stop();
    }
  }, 60_000);
});
