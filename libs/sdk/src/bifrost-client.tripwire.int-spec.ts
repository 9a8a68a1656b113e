import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { TripwirePolicyView } from '@bifrost/contracts';
import { createTestNamespace, startTestService, waitFor, type TestNamespace } from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the SDK's specs run the real services
import { TripwireConfig, tripwireService } from '../../../apps/tripwire/src/tripwire.service';
import { createClient, type BifrostClient } from './bifrost.client';

describe('SDK recordKpi() with a running tripwire', () => {
  let ns: TestNamespace;
  let tripwire: Awaited<ReturnType<typeof startTestService>>;
  let operator: NatsConnection;
  let sdk: BifrostClient;

  beforeAll(async () => {
    ns = await createTestNamespace('sdktrip');
    tripwire = await startTestService(TripwireConfig, tripwireService, ns, { LOG_LEVEL: 'error' });
    operator = await connect({ servers: ns.natsUrl });
    sdk = createClient({
      natsUrl: ns.natsUrl,
      namespace: ns.namespace,
      engineId: 'sdk-bot',
      heartbeatIntervalMs: 0,
    });
  });
  afterAll(async () => {
    await sdk.close();
    await operator.close();
    await tripwire.close();
    await ns.cleanup();
  });

  it("should put the KPIs into the engine's windows of the policy for their domain and metric", async () => {
    await expect(sdk.whenConnected(5_000)).resolves.toBe(true);
    const kpi = { domain: 'WHOLESALE', metric: 'contract_rate' };
    const recorded = [
      sdk.recordKpi({ ...kpi, success: true }),
      sdk.recordKpi({ ...kpi, success: true, value: 1200 }),
      sdk.recordKpi({ ...kpi, success: false }),
    ];
    expect(recorded.map((r) => r.kind)).toEqual(['kpi', 'kpi', 'kpi']);

    const engine = await waitFor(
      async () => {
        const { policies } = (await rpc(operator, ns.naming.rpcSubject('tripwire', 'policies'), {})) as {
          policies: TripwirePolicyView[];
        };
        const view = policies.find((p) => p.policyId === 'WHOLESALE-contract_rate');
        return view?.engines.find((e) => e.engineId === 'sdk-bot' && e.observed === 3);
      },
      { what: 'three KPIs of sdk-bot at the tripwire' },
    );
    expect(engine.evaluation).toMatchObject({
      result: 'INSUFFICIENT_DATA',
      evidence: { recent: { from: 1, to: 3, count: 3, successes: 2 } },
    });
  });
});

async function rpc(nc: NatsConnection, subject: string, body: unknown): Promise<unknown> {
  const reply = (await nc.request(subject, JSON.stringify(body), { timeout: 5_000 })).json<{
    ok: boolean;
    data?: unknown;
    error?: unknown;
  }>();
  if (!reply.ok) throw new Error(`${subject}: ${JSON.stringify(reply.error)}`);
  return reply.data;
}
