import { connect, type NatsConnection } from '@nats-io/transport-node';
import { actionHash } from '@bifrost/audit';
import type { TestNamespace } from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the SDK's specs run the real services
import { startGateway, type GatewayHarness } from '../../../apps/api-gateway/src/testing/gateway.fixtures';
import { createClient, type BifrostClient } from './bifrost.client';
import { reserveReply, verdictReply } from './replies.fixtures';
import type { ClientOptions } from './sdk.types';

const ENGINE = 'conflict-bot';
const action = { kind: 'order.place', intent: 'open' as const, notional: { amount: 1_000, currency: 'EUR' } };
const conflict = JSON.stringify({
  ok: false,
  error: { code: 'CONCURRENCY.CONFLICT', message: 'scripted: the strategy was contended, nothing decided' },
});

/**
 * A gate and a risk guard on the real NATS whose answers are scripted: the first `conflicts` asks
 * of each get `CONCURRENCY.CONFLICT` (as a contended strategy makes the gate answer), the next ones
 * a decision. Counts the asks.
 */
class ContendedServices {
  conflicts = 0;
  readonly asks = { check: 0, reserve: 0 };

  private constructor(private readonly nc: NatsConnection) {}

  static async start(ns: TestNamespace): Promise<ContendedServices> {
    const services = new ContendedServices(await connect({ servers: ns.natsUrl }));
    const answer = (operation: 'check' | 'reserve', decided: (body: Record<string, unknown>) => unknown) =>
      services.nc.subscribe(ns.naming.rpcSubject(operation === 'check' ? 'gate' : 'risk', operation), {
        callback: (_error, msg) => {
          services.asks[operation] += 1;
          const body = msg.json<Record<string, unknown>>();
          msg.respond(
            services.asks[operation] <= services.conflicts
              ? conflict
              : JSON.stringify({ ok: true, data: decided(body) }),
          );
        },
      });
    answer('check', (body) =>
      verdictReply({
        engineId: String(body['engineId']),
        strategyId: String(body['strategyId']),
        actionHash: actionHash(body['action']),
      }),
    );
    answer('reserve', (body) => reserveReply({ engineId: String(body['engineId']) }));
    await services.nc.flush();
    return services;
  }

  reset(conflicts: number): void {
    this.conflicts = conflicts;
    this.asks.check = 0;
    this.asks.reserve = 0;
  }

  stop(): Promise<void> {
    return this.nc.close();
  }
}

/**
 * A gate check that met a contended strategy (`CONCURRENCY.CONFLICT`: nothing decided or recorded,
 * docs/gate.md) is asked again within the deadline on both transports, like the other answers that
 * say nobody decided; a conflict on any other operation is an answer and is not.
 */
describe('SDK when the gate answers a check with CONCURRENCY.CONFLICT', () => {
  let ns: TestNamespace;
  let gateway: GatewayHarness;
  let services: ContendedServices;
  let engineKey = '';
  const clients: BifrostClient[] = [];
  const client = (options: Partial<ClientOptions>): BifrostClient => {
    const created = createClient({
      engineId: ENGINE,
      heartbeatIntervalMs: 0,
      deadlineMs: 10_000,
      ...options,
    });
    clients.push(created);
    return created;
  };

  beforeAll(async () => {
    gateway = await startGateway('sdkconflict');
    ns = gateway.ns;
    services = await ContendedServices.start(ns);
    engineKey = (await gateway.createKey('engine', { engineId: ENGINE })).apiKey;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await services?.stop();
    await gateway?.close();
  });

  const transports: [string, () => Partial<ClientOptions>][] = [
    ['over NATS', () => ({ natsUrl: ns.natsUrl, namespace: ns.namespace })],
    [
      'over HTTP through the real gateway (409)',
      () => ({ gatewayUrl: gateway.gateway.url, apiKey: engineKey }),
    ],
  ];

  describe.each(transports)('%s', (_, options) => {
    it('should ask the gate again after each conflict and return the verdict it then gives', async () => {
      const sdk = client(options());
      await expect(sdk.whenConnected(5_000)).resolves.toBe(true);
      services.reset(2);

      const verdict = await sdk.check({ strategyId: 's1', action });

      expect(verdict).toMatchObject({
        failClosed: false,
        action: 'ALLOW',
        engineId: ENGINE,
        strategyId: 's1',
      });
      expect(services.asks.check).toBe(3);
    });

    it('should not ask the risk guard again after a conflict on a reservation: it is an answer there', async () => {
      const sdk = client(options());
      await expect(sdk.whenConnected(5_000)).resolves.toBe(true);
      services.reset(1);

      const result = await sdk.reserve({
        idempotencyKey: 'r-1',
        maxLoss: { amount: 500, currency: 'EUR' },
        exposure: { amount: 9_000, currency: 'EUR' },
      });

      expect(result).toMatchObject({ failClosed: true, code: 'CONCURRENCY.CONFLICT' });
      expect(services.asks.reserve).toBe(1);
    });
  });
});
