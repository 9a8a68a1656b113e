import { context, propagation, trace } from '@opentelemetry/api';
import { Type } from '@sinclair/typebox';
import { NotFoundError, TransientError } from '@bifrost/event-sourcing';
import { createTestNamespace, recordSpans, waitFor, type TestNamespace } from '@bifrost/testing';
import type { Messaging } from '../messaging';
import { MAX_JSON_DEPTH } from '../json-depth';
import { serveRpc, type RpcServer } from '../rpc';
import { connectTest, depthOf, nestedJson } from './fixtures';

const exporter = recordSpans();

describe('request-reply', () => {
  let ns: TestNamespace;
  let server: Messaging;
  let client: Messaging;
  let routes: RpcServer;
  let slowStarted: () => void;
  const slowStart = new Promise<void>((resolve) => (slowStarted = resolve));
  let slowFinished = false;
  let hashed = 0;

  beforeAll(async () => {
    ns = await createTestNamespace('rpc');
    server = await connectTest(ns.natsUrl, ns.namespace, 'echo');
    client = await connectTest(ns.natsUrl, ns.namespace, 'caller');
    routes = await serveRpc(server.nc, server.naming, 'echo', [
      {
        subject: 'bifrost.rpc.echo.say',
        request: Type.Object({ text: Type.String({ maxLength: 10 }) }, { additionalProperties: false }),
        handler: async (data) => ({
          said: (data as { text: string }).text,
          traceId: trace.getActiveSpan()?.spanContext().traceId,
        }),
      },
      {
        subject: 'bifrost.rpc.echo.find',
        handler: async () => {
          throw new NotFoundError('no such thing', { code: 'ECHO.NOT_FOUND' });
        },
      },
      {
        subject: 'bifrost.rpc.echo.slow',
        handler: async () => {
          slowStarted();
          await new Promise((resolve) => setTimeout(resolve, 300));
          slowFinished = true;
          return { done: true };
        },
      },
      {
        // Like a gate check: a free-form object the handler walks recursively (as JCS hashing does).
        subject: 'bifrost.rpc.echo.hash',
        request: Type.Object(
          { params: Type.Record(Type.String(), Type.Unknown()) },
          { additionalProperties: false },
        ),
        handler: async (data) => {
          hashed += 1;
          return { depth: depthOf((data as { params: unknown }).params) };
        },
      },
      {
        subject: 'bifrost.rpc.echo.crash',
        handler: async () => {
          throw new Error('secret internals');
        },
      },
    ]);
  });
  afterAll(async () => {
    await routes.drain();
    await client.drain();
    await server.drain();
    await ns.cleanup();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('should answer a valid request with {ok:true,data}', async () => {
    const reply = await client.rpc.request('bifrost.rpc.echo.say', { text: 'hi' });
    expect(reply).toMatchObject({ ok: true, data: { said: 'hi' } });
  });

  it('should answer malformed JSON with PAYLOAD.MALFORMED, not a timeout', async () => {
    const msg = await client.nc.request(
      ns.naming.qualify('bifrost.rpc.echo.say'),
      new TextEncoder().encode('{"text":'),
      { timeout: 2000 },
    );
    expect(JSON.parse(new TextDecoder().decode(msg.data))).toMatchObject({
      ok: false,
      error: { code: 'PAYLOAD.MALFORMED' },
    });
  });

  it.each([
    ['a wrong type', { text: 42 }],
    ['a missing field', {}],
    ['an extra field', { text: 'x', admin: true }],
    ['a too long value', { text: 'x'.repeat(11) }],
  ])('should answer %s with RPC.VALIDATION_FAILED and the offending path', async (_label, body) => {
    const reply = await client.rpc.request('bifrost.rpc.echo.say', body);
    expect(reply).toMatchObject({ ok: false, error: { code: 'RPC.VALIDATION_FAILED' } });
  });

  it.each([
    ['U+0000', '{"text":"a\\u0000"}'],
    ['a lone surrogate', '{"text":"a\\ud800"}'],
  ])(
    'should answer a request holding %s with PAYLOAD.MALFORMED: it could not be audited',
    async (_label, text) => {
      const msg = await client.nc.request(
        ns.naming.qualify('bifrost.rpc.echo.say'),
        new TextEncoder().encode(text),
        { timeout: 2000 },
      );
      expect(JSON.parse(new TextDecoder().decode(msg.data))).toMatchObject({
        ok: false,
        error: { code: 'PAYLOAD.MALFORMED', message: expect.stringContaining('U+0000') },
      });
    },
  );

  describe('a payload nested too deep', () => {
    it('should answer a 3000-deep payload (6 kB) with PAYLOAD.MALFORMED before validating it, and go on', async () => {
      const text = `{"params":{"p":${'['.repeat(2998)}1${']'.repeat(2998)}}}`;
      expect(text.length).toBeLessThan(6 * 1024);
      const before = hashed;

      const msg = await client.nc.request(
        ns.naming.qualify('bifrost.rpc.echo.hash'),
        new TextEncoder().encode(text),
        { timeout: 2000 },
      );

      expect(JSON.parse(new TextDecoder().decode(msg.data))).toEqual({
        ok: false,
        error: { code: 'PAYLOAD.MALFORMED', message: 'payload is nested deeper than 64 levels' },
      });
      expect(hashed).toBe(before);
      // The server is fine: the next request is answered.
      expect(await client.rpc.request('bifrost.rpc.echo.hash', { params: { a: [1] } })).toEqual({
        ok: true,
        data: { depth: 2 },
      });
      expect(await client.rpc.request('bifrost.rpc.echo.say', { text: 'hi' })).toMatchObject({ ok: true });
    });

    it(`should take ${MAX_JSON_DEPTH} levels, the whole payload counted, and refuse ${MAX_JSON_DEPTH + 1}`, async () => {
      // The payload is one level, params the second: its value starts at level 3.
      const at = (levels: number) =>
        client.nc
          .request(
            ns.naming.qualify('bifrost.rpc.echo.hash'),
            new TextEncoder().encode(`{"params":{"p":${nestedJson(levels - 2)}}}`),
            { timeout: 2000 },
          )
          .then((msg) => JSON.parse(new TextDecoder().decode(msg.data)) as unknown);

      expect(await at(64)).toEqual({ ok: true, data: { depth: 63 } });
      expect(await at(65)).toMatchObject({ ok: false, error: { code: 'PAYLOAD.MALFORMED' } });
      // Arrays count as objects do.
      expect(
        await client.rpc.request('bifrost.rpc.echo.say', JSON.parse('['.repeat(65) + ']'.repeat(65))),
      ).toMatchObject({ ok: false, error: { code: 'PAYLOAD.MALFORMED' } });
      expect(
        await client.rpc.request('bifrost.rpc.echo.say', JSON.parse('['.repeat(64) + ']'.repeat(64))),
      ).toMatchObject({ ok: false, error: { code: 'RPC.VALIDATION_FAILED' } });
    });

    it('should answer a request it cannot send as JSON at once with PAYLOAD.MALFORMED, not a timeout', async () => {
      const started = Date.now();

      const reply = await client.rpc.request('bifrost.rpc.echo.say', { text: 1n }, { timeoutMs: 2000 });

      expect(reply).toMatchObject({ ok: false, error: { code: 'PAYLOAD.MALFORMED' } });
      expect(Date.now() - started).toBeLessThan(1000);
    });
  });

  it('should refuse an oversize request with RPC.PAYLOAD_TOO_LARGE', async () => {
    const reply = await client.rpc.request('bifrost.rpc.echo.say', { text: 'x'.repeat(300 * 1024) });
    expect(reply).toMatchObject({ ok: false, error: { code: 'RPC.PAYLOAD_TOO_LARGE' } });
  });

  it('should refuse a request larger than the NATS server takes as too large, not as a timeout', async () => {
    const maxPayload = client.nc.info?.max_payload ?? 1024 * 1024;
    const reply = await client.rpc.request('bifrost.rpc.echo.say', { text: 'x'.repeat(maxPayload) });
    expect(reply).toMatchObject({
      ok: false,
      error: { code: 'RPC.PAYLOAD_TOO_LARGE', message: expect.stringMatching(/max_payload/) },
    });
  });

  it('should answer a request from another connection as soon as serving has resolved', async () => {
    for (let i = 0; i < 50; i += 1) {
      const subject = `bifrost.rpc.ready.n${i}`;
      const ready = await serveRpc(server.nc, server.naming, 'ready', [
        { subject, handler: async () => ({ n: i }) },
      ]);
      const reply = await client.rpc.request(subject, {});
      await ready.drain();
      expect(reply).toEqual({ ok: true, data: { n: i } });
    }
  });

  it('should carry a domain error code through, and hide unknown errors', async () => {
    await expect(client.rpc.request('bifrost.rpc.echo.find', {})).resolves.toEqual({
      ok: false,
      error: { code: 'ECHO.NOT_FOUND', message: 'no such thing' },
    });
    const crash = await client.rpc.request('bifrost.rpc.echo.crash', {});
    expect(crash).toMatchObject({ ok: false, error: { code: 'INTERNAL.ERROR' } });
    expect(JSON.stringify(crash)).not.toContain('secret internals');
  });

  it('should tell its observer of every request answered, by canonical subject and outcome', async () => {
    const serving: string[] = [];
    const answered: { subject: string; outcome: string; seconds: number }[] = [];
    const errors: unknown[] = [];
    const subject = 'bifrost.rpc.observed.get';
    const observed = await serveRpc(
      server.nc,
      server.naming,
      'observed',
      [
        {
          subject,
          request: Type.Object({ id: Type.String() }),
          handler: async (data) => {
            const { id } = data as { id: string };
            if (id === 'missing') throw new NotFoundError('no such thing', { code: 'OBSERVED.NOT_FOUND' });
            if (id === 'crash') throw new Error('secret internals');
            if (id === 'down') throw new TransientError('the stream did not answer');
            if (id === 'big') return { n: 1n }; // JSON cannot carry it
            if (id === 'huge') return { text: 'x'.repeat(2 * 1024 * 1024) }; // the server cannot
            return { id };
          },
        },
      ],
      {
        onError: (error) => errors.push(error),
        observer: {
          serving: (s) => serving.push(s),
          answered: (s, outcome, seconds) => answered.push({ subject: s, outcome, seconds }),
        },
      },
    );
    try {
      expect(serving).toEqual([subject]);
      expect(await client.rpc.request(subject, { id: 'a' })).toMatchObject({ ok: true });
      await client.nc.request(ns.naming.qualify(subject), new TextEncoder().encode('nope'), {
        timeout: 2000,
      });
      await client.rpc.request(subject, { id: 7 });
      await client.rpc.request(subject, { id: 'x'.repeat(300 * 1024) });
      await client.rpc.request(subject, { id: 'missing' });
      await client.rpc.request(subject, { id: 'crash' });
      await client.rpc.request(subject, { id: 'down' });
      // A result JSON cannot carry still gets a reply, and is counted as what the caller got.
      expect(await client.rpc.request(subject, { id: 'big' }, { timeoutMs: 2000 })).toMatchObject({
        ok: false,
        error: { code: 'INTERNAL.ERROR' },
      });
      // So does a result larger than the server's max payload (it was dropped: the caller timed out).
      expect(await client.rpc.request(subject, { id: 'huge' }, { timeoutMs: 2000 })).toMatchObject({
        ok: false,
        error: { code: 'INTERNAL.REPLY_TOO_LARGE' },
      });
      await waitFor(() => answered.length === 9, { what: 'every request observed' });

      expect(answered.map((a) => a.outcome)).toEqual([
        'ok',
        'PAYLOAD.MALFORMED',
        'RPC.VALIDATION_FAILED',
        'RPC.PAYLOAD_TOO_LARGE',
        'OBSERVED.NOT_FOUND',
        'INTERNAL.ERROR',
        'INFRA.UNAVAILABLE',
        'INTERNAL.ERROR',
        'INTERNAL.REPLY_TOO_LARGE',
      ]);
      expect(answered.every((a) => a.subject === subject && a.seconds >= 0 && a.seconds < 5)).toBe(true);
      // For the log: the service's failures (a bug, the infrastructure) and the replies that could
      // not be made; not the caller's mistakes or refusals, whose replies say it all.
      expect(errors.map((e) => (e as Error).message)).toEqual([
        'secret internals',
        'the stream did not answer',
        expect.stringMatching(/BigInt/),
        expect.stringMatching(/exceeds the server's max payload/),
      ]);
    } finally {
      await observed.drain();
    }
  });

  it.each([
    ['not JSON', '{'],
    ['an empty object', '{}'],
    ['ok without data', '{"ok":true}'],
    ['an error without its code', '{"ok":false}'],
  ])('should report an answer that is %s as INTERNAL.MALFORMED_REPLY, not a timeout', async (_, answer) => {
    const sub = server.nc.subscribe(server.naming.qualify('bifrost.rpc.odd.answer'), {
      callback: (_err, msg) => {
        msg.respond(new TextEncoder().encode(answer));
      },
    });
    try {
      await server.nc.flush();
      await expect(client.rpc.request('bifrost.rpc.odd.answer', {}, { timeoutMs: 2_000 })).resolves.toEqual({
        ok: false,
        error: {
          code: 'INTERNAL.MALFORMED_REPLY',
          message: 'the answer from bifrost.rpc.odd.answer is not a reply',
        },
      });
    } finally {
      sub.unsubscribe();
    }
  });

  it('should report no responders as an error reply', async () => {
    await expect(
      client.rpc.request('bifrost.rpc.nobody.home', {}, { timeoutMs: 500 }),
    ).resolves.toMatchObject({
      ok: false,
      error: { code: expect.stringMatching(/^RPC\.(NO_RESPONDERS|TIMEOUT)$/) },
    });
  });

  it.each([
    ['closed', (nc: Messaging['nc']) => nc.close(), /closed connection/],
    ['draining', (nc: Messaging['nc']) => void nc.drain(), /connection draining/],
  ])(
    'should answer a request on a %s connection with INFRA.CONNECTION_CLOSED: not sent, so no timeout',
    async (_label, end, message) => {
      const caller = await connectTest(ns.natsUrl, ns.namespace, 'caller');
      await end(caller.nc);
      expect(await caller.rpc.request('bifrost.rpc.echo.say', { text: 'hi' })).toEqual({
        ok: false,
        error: { code: 'INFRA.CONNECTION_CLOSED', message: expect.stringMatching(message) },
      });
      await caller.nc.closed();
    },
  );

  it('should continue the caller’s trace on the server side of the hop', async () => {
    exporter.reset();
    const tracer = trace.getTracer('test');
    const parent = tracer.startSpan('caller');
    const reply = await context.with(trace.setSpan(context.active(), parent), () =>
      client.rpc.request<{ traceId: string }>('bifrost.rpc.echo.say', { text: 'trace' }),
    );
    parent.end();

    const traceId = parent.spanContext().traceId;
    expect(reply).toMatchObject({ ok: true, data: { traceId } });
    const spans = exporter.getFinishedSpans();
    const clientSpan = spans.find((s) => s.name === 'rpc bifrost.rpc.echo.say' && s.kind === 2);
    const serverSpan = spans.find((s) => s.name === 'rpc bifrost.rpc.echo.say' && s.kind === 1);
    expect(clientSpan?.spanContext().traceId).toBe(traceId);
    expect(serverSpan?.spanContext().traceId).toBe(traceId);
    expect(serverSpan?.parentSpanContext?.spanId).toBe(clientSpan?.spanContext().spanId);
  });

  it('should mark both spans of a failed request as errors, with the code, and leave a good one unset', async () => {
    exporter.reset();
    await client.rpc.request('bifrost.rpc.echo.find', {});
    await client.rpc.request('bifrost.rpc.nobody.home', {}, { timeoutMs: 500 });
    await client.rpc.request('bifrost.rpc.echo.say', { text: 'fine' });

    const spans = exporter.getFinishedSpans();
    const of = (name: string) =>
      spans
        .filter((s) => s.name === name)
        .map((s) => ({ kind: s.kind, status: s.status.code, code: s.attributes['bifrost.error.code'] }));
    expect(of('rpc bifrost.rpc.echo.find')).toEqual(
      expect.arrayContaining([
        { kind: 1, status: 2, code: 'ECHO.NOT_FOUND' },
        { kind: 2, status: 2, code: 'ECHO.NOT_FOUND' },
      ]),
    );
    expect(of('rpc bifrost.rpc.nobody.home')).toEqual([
      { kind: 2, status: 2, code: expect.stringMatching(/^RPC\.(NO_RESPONDERS|TIMEOUT)$/) },
    ]);
    expect(of('rpc bifrost.rpc.echo.say').map((s) => s.status)).toEqual([0, 0]);
  });

  // Last: it stops the routes.
  it('should stop taking requests on drain, and resolve only once the requests taken are answered', async () => {
    const slow = client.rpc.request('bifrost.rpc.echo.slow', {});
    await slowStart;

    await routes.drain();

    expect(slowFinished).toBe(true);
    expect(await slow).toMatchObject({ ok: true, data: { done: true } });
    expect(await client.rpc.request('bifrost.rpc.echo.say', { text: 'hi' })).toMatchObject({
      ok: false,
      error: { code: 'RPC.NO_RESPONDERS' },
    });
  });
});
