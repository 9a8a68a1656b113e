import { configProblems, createClient } from './bifrost.client';

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
      'gatewayUrl "ftp://x" is not an http(s) URL',
      'apiKey is required with gatewayUrl',
      'engineId "bad id" must be letters, digits, "-" or "_" (at most 64)',
      'namespace "a.b" must be letters, digits, "-" or "_"',
      'deadlineMs must be a positive integer',
      'heartbeatIntervalMs must be a non-negative integer',
      'buffer.maxItems must be a positive integer',
    ]);
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
