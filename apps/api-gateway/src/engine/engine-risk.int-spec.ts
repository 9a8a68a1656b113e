// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { RiskGuardConfig, riskGuardService } from '@bifrost/risk-guard';
import { peer, startGatewayStack, type GatewayStack } from '../testing/gateway.fixtures';

const ENGINE = 'gw-risk';
const usd = (amount: number) => ({ amount, currency: 'USD' });

describe('engine risk routes over the real risk-guard', () => {
  let h: GatewayStack<'risk'>;

  beforeAll(async () => {
    h = await startGatewayStack('gwrisk', {
      engineId: ENGINE,
      peers: { risk: peer(RiskGuardConfig, riskGuardService) },
    });
    const policy = await h.http('PUT', `/api/v1/risk/policies/${ENGINE}`, {
      key: h.keys.admin,
      body: {
        reason: 'gateway test',
        maxDailyLoss: usd(10_000),
        maxDailyExposure: usd(100_000),
        maxDailyActions: 100,
      },
    });
    expect(policy.status).toBe(200);
  });
  afterAll(() => h?.close());

  const call = (operation: string, body: Record<string, unknown>) =>
    h.http('POST', `/api/v1/engine/${operation}`, {
      key: h.keys.engine,
      body: { engineId: ENGINE, ...body },
    });

  it('should answer a settle of a settled reservation with 409 and one of an unknown reservation with 404', async () => {
    const reserved = await call('reserve', {
      maxLoss: usd(500),
      exposure: usd(5_000),
      idempotencyKey: 'k-1',
    });
    expect(reserved).toMatchObject({ status: 200, body: { status: 'GRANTED' } });
    const { reservationId } = reserved.body as { reservationId: string };

    expect(await call('settle', { reservationId, realizedLoss: usd(100) })).toMatchObject({ status: 200 });
    // The same settle again is answered as it was (idempotent); another amount is a conflict.
    expect(await call('settle', { reservationId, realizedLoss: usd(100) })).toMatchObject({
      status: 200,
      body: { status: 'SETTLED' },
    });
    expect(await call('settle', { reservationId, realizedLoss: usd(200) })).toMatchObject({
      status: 409,
      body: { code: 'RISK.RESERVATION_CLOSED' },
    });
    const unknown = '01a248ae-0000-7000-8000-000000000000';
    for (const [operation, extra] of [
      ['settle', { realizedLoss: usd(50) }],
      ['release', {}],
      ['reconcile', { realizedLoss: usd(50) }],
    ] as const) {
      expect(await call(operation, { reservationId: unknown, ...extra })).toMatchObject({
        status: 404,
        body: { type: '/problems/not-found', code: 'RISK.RESERVATION_UNKNOWN' },
      });
    }
  });

  it('should answer what risk-guard refuses for another reason with 422', async () => {
    expect(
      await call('reserve', {
        maxLoss: { amount: 500, currency: 'EUR' },
        exposure: { amount: 5_000, currency: 'EUR' },
        idempotencyKey: 'k-eur',
      }),
    ).toMatchObject({
      status: 422,
      // The service's details come along, as over NATS: what it expected.
      body: { code: 'RISK.CURRENCY_MISMATCH', details: { expected: 'USD', got: 'EUR' } },
    });
  });
});
