import { configProblems, createClient } from './bifrost.client';
import type { CheckRequest, ClientEvents, ClientOptions, EvaluateInput, ReserveInput } from './sdk.types';

describe('Client options', () => {
  it('should accept a NATS client with defaults', () => {
    expect(configProblems({ natsUrl: 'nats://127.0.0.1:4222', engineId: 'e1' })).toEqual([]);
  });

  it('should accept an HTTP client with an API key', () => {
    expect(
      configProblems({ gatewayUrl: 'https://bifrost.example.com', engineId: 'e1', apiKey: 'k' }),
    ).toEqual([]);
  });

  it('should list every problem at once', () => {
    expect(
      configProblems({
        engineId: 'bad id',
        gatewayUrl: 'ftp://x',
        deadlineMs: 0,
        heartbeatIntervalMs: -1,
        buffer: { maxItems: 0 },
        namespace: 'a.b',
      }),
    ).toEqual([
      `gatewayUrl "ftp://x" must be an origin: http(s)://host[:port] with no path other than '/'`,
      'apiKey is required with gatewayUrl',
      'engineId "bad id" must be letters, digits, "-" or "_" (at most 64)',
      'namespace "a.b" must be letters, digits, "-" or "_"',
      'namespace applies to natsUrl only: the gateway serves its own namespace',
      'deadlineMs must be an integer from 1 to 2147483647',
      'heartbeatIntervalMs must be an integer from 0 to 2147483647',
      'buffer.maxItems must be an integer from 1 to 9007199254740991',
    ]);
  });

  it.each([
    'nats://127.0.0.1:4222',
    'localhost:4222',
    'tls://bifrost.example.com:4443',
    'nats://a.example.com:4222, nats://b.example.com:4222',
  ])('should accept the NATS servers %p', (natsUrl) => {
    expect(configProblems({ natsUrl, engineId: 'e1' })).toEqual([]);
  });

  it.each([
    ['not a url', 'not a url'],
    ['nats://127.0.0.1:4222,,', ''],
    ['http://localhost:3000', 'http://localhost:3000'],
  ])('should refuse the NATS servers %p, naming the bad one', (natsUrl, bad) => {
    expect(configProblems({ natsUrl, engineId: 'e1' })).toEqual([
      `natsUrl "${natsUrl}": "${bad}" is not a NATS server (nats://host[:port], tls://host[:port] or host[:port], comma-separated)`,
    ]);
  });

  it.each(['http://localhost:3000', 'https://bifrost.example.com/'])(
    'should accept the gateway origin %p',
    (gatewayUrl) => {
      expect(configProblems({ gatewayUrl, apiKey: 'k', engineId: 'e1' })).toEqual([]);
    },
  );

  it.each(['http://localhost:3000/api/v1', 'http://localhost:3000/?x=1', 'localhost:3000'])(
    'should refuse a gateway URL that is no origin: %p',
    (gatewayUrl) => {
      expect(configProblems({ gatewayUrl, apiKey: 'k', engineId: 'e1' })).toEqual([
        `gatewayUrl "${gatewayUrl}" must be an origin: http(s)://host[:port] with no path other than '/'`,
      ]);
    },
  );

  it('should refuse a heartbeat interval no timer can hold (it would fire every millisecond)', () => {
    expect(
      configProblems({ natsUrl: 'nats://127.0.0.1:4222', engineId: 'e1', heartbeatIntervalMs: 2 ** 31 }),
    ).toEqual(['heartbeatIntervalMs must be an integer from 0 to 2147483647']);
  });

  it('should refuse a reconnect limit that is not a count, and an activeSessions that is not a function', () => {
    expect(
      configProblems({
        natsUrl: 'nats://127.0.0.1:4222',
        engineId: 'e1',
        maxReconnectAttempts: -1,
        activeSessions: 3 as unknown as () => number,
      }),
    ).toEqual([
      'maxReconnectAttempts must be an integer from 0 to 9007199254740991',
      'activeSessions must be a function returning a count',
    ]);
    expect(
      configProblems({ natsUrl: 'nats://127.0.0.1:4222', engineId: 'e1', maxReconnectAttempts: 0 }),
    ).toEqual([]);
  });

  it('should refuse a namespace with the gateway, which would ignore it', () => {
    expect(
      configProblems({ gatewayUrl: 'http://localhost:3000', apiKey: 'k', engineId: 'e1', namespace: 'ci' }),
    ).toEqual(['namespace applies to natsUrl only: the gateway serves its own namespace']);
  });

  it('should want exactly one transport', () => {
    expect(configProblems({ engineId: 'e1' })).toEqual(['set exactly one of natsUrl and gatewayUrl']);
    expect(configProblems({ engineId: 'e1', natsUrl: 'nats://x:4222', gatewayUrl: 'http://y' })).toContain(
      'set exactly one of natsUrl and gatewayUrl',
    );
  });

  it('should make createClient throw SDK.INVALID_CONFIG', () => {
    expect(() => createClient({ engineId: '' })).toThrow(
      expect.objectContaining({ code: 'SDK.INVALID_CONFIG' }),
    );
  });

  it('should refuse URLs, key and namespace that are not strings (from JavaScript), naming each', () => {
    expect(
      configProblems({
        natsUrl: ['nats://127.0.0.1:4222'],
        engineId: 'e1',
        namespace: 5,
      } as unknown as ClientOptions),
    ).toEqual(['natsUrl must be a string, got an array', 'namespace must be a string, got number']);
    expect(
      configProblems({
        gatewayUrl: new URL('http://localhost:3000'),
        apiKey: 42,
        engineId: 'e1',
      } as unknown as ClientOptions),
    ).toEqual(['gatewayUrl must be a string, got object', 'apiKey must be a string, got number']);
  });

  it('should make createClient throw SDK.INVALID_CONFIG, not a TypeError, for servers given as an array (nats.js style)', () => {
    expect(() =>
      createClient({ natsUrl: ['nats://127.0.0.1:4222'], engineId: 'e1' } as unknown as ClientOptions),
    ).toThrow(expect.objectContaining({ name: 'SdkError', code: 'SDK.INVALID_CONFIG' }));
  });

  it('should make createClient throw SDK.INVALID_CONFIG without options (from JavaScript)', () => {
    expect(() => createClient(undefined as unknown as ClientOptions)).toThrow(
      expect.objectContaining({ name: 'SdkError', code: 'SDK.INVALID_CONFIG' }),
    );
  });

  it('should make createClient throw SDK.INVALID_CONFIG for a gateway URL with a path', () => {
    expect(() =>
      createClient({ gatewayUrl: 'http://localhost:3000/api/v1', apiKey: 'k', engineId: 'e1' }),
    ).toThrow(
      expect.objectContaining({ code: 'SDK.INVALID_CONFIG', message: expect.stringContaining('origin') }),
    );
  });
});

describe('A client that cannot reach Bifrost', () => {
  // Port 9 (discard) refuses connections on loopback: the gateway is simply not there.
  const unreachable = () =>
    createClient({ gatewayUrl: 'http://127.0.0.1:9', apiKey: 'k', engineId: 'e1', heartbeatIntervalMs: 0 });

  it('should fail decisions closed and buffer facts', async () => {
    const sdk = unreachable();

    await expect(
      sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } }),
    ).resolves.toMatchObject({
      failClosed: true,
      action: 'BLOCK',
      code: 'SDK.DISCONNECTED',
    });
    sdk.recordOutcome({ strategyId: 's1', outcomeId: 'o-1', pnl: { amount: 5, currency: 'EUR' } });
    expect(sdk.bufferDepth).toBe(1);
    expect(sdk.connected).toBe(false);

    await expect(sdk.close()).resolves.toEqual({ undelivered: 1 });
  });

  it("should fail closed with a logger that throws, the logger's failure its own", async () => {
    const throwing = () => {
      throw new Error('logger down');
    };
    const sdk = createClient({
      gatewayUrl: 'http://127.0.0.1:9',
      apiKey: 'k',
      engineId: 'e1',
      heartbeatIntervalMs: 0,
      logger: { debug: throwing, info: throwing, warn: throwing, error: throwing },
    });

    await expect(
      sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } }),
    ).resolves.toMatchObject({ failClosed: true, action: 'BLOCK' });
    await expect(sdk.close()).resolves.toEqual({ undelivered: 0 });
  });

  it('should tell waiters and listeners when it is closed', async () => {
    const sdk = unreachable();
    const states: string[] = [];
    sdk.on('state', (state) => {
      states.push(state);
    });
    const started = Date.now();
    const waiting = sdk.whenConnected(8_000);

    await sdk.close();

    await expect(waiting).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(states).toContain('closed');
  });

  it.each([Number.POSITIVE_INFINITY, 2 ** 31])(
    'should keep a whenConnected(%p) waiting until it is closed (no timer can hold that)',
    async (timeoutMs) => {
      const sdk = unreachable();
      let answered: boolean | undefined;
      const waiting = sdk.whenConnected(timeoutMs).then((connected) => (answered = connected));

      // Node runs a timer set above 2³¹−1 ms after 1 ms: well within this.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(answered).toBeUndefined();

      await sdk.close();
      await expect(waiting).resolves.toBe(false);
    },
  );

  describe('given the default buffer (no buffer.maxItems), while facts cannot be sent', () => {
    it('should keep exactly 10 000 facts, then drop the oldest for each newer one and count it', async () => {
      const sdk = unreachable();
      const dropped: Parameters<ClientEvents['dropped']>[0][] = [];
      sdk.on('dropped', (event) => {
        dropped.push(event);
      });

      const recorded = Array.from({ length: 10_000 }, (_, i) => sdk.recordOutcome(outcome(`o-${i}`)));

      expect(sdk.bufferDepth).toBe(10_000);
      expect(sdk.droppedCount).toBe(0);
      expect(dropped).toEqual([]);

      sdk.recordOutcome(outcome('o-10000'));
      sdk.recordOutcome(outcome('o-10001'));

      expect(sdk.bufferDepth).toBe(10_000);
      expect(sdk.droppedCount).toBe(2);
      expect(dropped).toEqual([
        { ...recorded[0], reason: 'overflow', droppedCount: 1 },
        { ...recorded[1], reason: 'overflow', droppedCount: 2 },
      ]);
      await expect(sdk.close()).resolves.toEqual({ undelivered: 10_000 });
    }, 30_000);
  });

  describe('given no request at all (from JavaScript)', () => {
    it.each([undefined, null])('should BLOCK a check of %p, not reject', async (request) => {
      const sdk = unreachable();

      await expect(sdk.check(request as unknown as CheckRequest)).resolves.toMatchObject({
        failClosed: true,
        action: 'BLOCK',
        code: 'SDK.INVALID_REQUEST',
      });
      await sdk.close();
    });

    it('should deny a reservation, not reject', async () => {
      const sdk = unreachable();

      await expect(sdk.reserve(undefined as unknown as ReserveInput)).resolves.toMatchObject({
        failClosed: true,
        outcome: 'DENIED',
        reason: 'UNAVAILABLE',
        code: 'SDK.INVALID_REQUEST',
      });
      await sdk.close();
    });

    it('should not find the recommendation eligible, not reject', async () => {
      const sdk = unreachable();

      await expect(sdk.evaluateRecommendation(undefined as unknown as EvaluateInput)).resolves.toMatchObject({
        failClosed: true,
        outcome: 'NOT_ELIGIBLE',
        code: 'SDK.INVALID_REQUEST',
      });
      await sdk.close();
    });
  });

  describe('given a request that is not JSON (from JavaScript)', () => {
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;

    it.each([
      ['a BigInt', { size: 10n }],
      ['a cycle', circular],
    ])(
      'should BLOCK a check whose params hold %s as an invalid request, not a lost link',
      async (_, params) => {
        const sdk = unreachable();

        await expect(
          sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open', params } }),
        ).resolves.toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.INVALID_REQUEST' });
        await sdk.close();
      },
    );
  });

  describe('given a request whose fields throw when read (from JavaScript)', () => {
    const throwing = <T extends object>(fields: T, key: string): T =>
      Object.defineProperty({ ...fields }, key, {
        enumerable: true,
        get() {
          throw new Error('boom');
        },
      });

    it('should BLOCK the check, deny the reservation and not find the recommendation eligible, not reject', async () => {
      const sdk = unreachable();

      await expect(
        sdk.check(throwing({ strategyId: 's1' }, 'action') as unknown as CheckRequest),
      ).resolves.toMatchObject({ failClosed: true, action: 'BLOCK', code: 'SDK.INVALID_REQUEST' });
      await expect(
        sdk.reserve(
          throwing({ maxLoss: { amount: 1, currency: 'USD' } }, 'idempotencyKey') as unknown as ReserveInput,
        ),
      ).resolves.toMatchObject({ failClosed: true, outcome: 'DENIED', code: 'SDK.INVALID_REQUEST' });
      await expect(
        sdk.evaluateRecommendation(throwing({ confidence: 0.9 }, 'domain') as unknown as EvaluateInput),
      ).resolves.toMatchObject({ failClosed: true, outcome: 'NOT_ELIGIBLE', code: 'SDK.INVALID_REQUEST' });
      await sdk.close();
    });
  });

  describe('once closed', () => {
    it('should BLOCK, deny, and refuse everything else with SDK.CLOSED', async () => {
      const sdk = unreachable();
      await sdk.close();

      expect(sdk.state).toBe('closed');
      await expect(
        sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } }),
      ).resolves.toMatchObject({
        failClosed: true,
        action: 'BLOCK',
        code: 'SDK.CLOSED',
      });
      await expect(
        sdk.reserve({
          idempotencyKey: 'k',
          maxLoss: { amount: 1, currency: 'EUR' },
          exposure: { amount: 1, currency: 'EUR' },
        }),
      ).resolves.toMatchObject({ failClosed: true, reason: 'UNAVAILABLE', code: 'SDK.CLOSED' });
      await expect(
        sdk.release({ reservationId: '01937b4e-0000-7000-8000-000000000000' }),
      ).rejects.toMatchObject({
        code: 'SDK.CLOSED',
      });
      expect(() =>
        sdk.recordOutcome({ strategyId: 's1', outcomeId: 'o', pnl: { amount: 1, currency: 'EUR' } }),
      ).toThrow(expect.objectContaining({ code: 'SDK.CLOSED' }));
    });
  });
});

function outcome(outcomeId: string) {
  return { strategyId: 's1', outcomeId, pnl: { amount: 5, currency: 'EUR' } };
}
