import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createTestNamespace, startTestService, waitFor, type TestNamespace } from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the SDK's specs run the real services
import { startGateway, type GatewayHarness } from '../../../apps/api-gateway/src/testing/gateway.fixtures';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the SDK's specs run the real services
import { HeimdallConfig, heimdallService } from '../../../apps/heimdall/src/heimdall.service';
import { createClient, type BifrostClient } from './bifrost.client';
import type { ClientOptions, EvaluationResult, SandboxTrialInput } from './sdk.types';

type RunningService = Awaited<ReturnType<typeof startTestService>>;

const DOMAIN = 'SDK_OFFER';
const OPERATOR = { kind: 'operator', id: 'alice' };

describe('SDK evaluateRecommendation() and recordSandboxTrial() against the real Heimdall', () => {
  const clients: BifrostClient[] = [];
  const client = (options: Partial<ClientOptions> & Pick<ClientOptions, 'engineId'>): BifrostClient => {
    const created = createClient({ heartbeatIntervalMs: 0, deadlineMs: 3_000, ...options });
    clients.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  /** Defines a small policy, reports trials through the SDK, promotes the domain: eligible from then on. */
  async function story(sdk: BifrostClient, operate: (operation: string, body: object) => Promise<unknown>) {
    await operate('cmd.upsert-policy', {
      domain: DOMAIN,
      minConfidence: 0.9,
      minSandboxTrials: 3,
      minSandboxSuccessRate: 0.6,
    });
    const early = await sdk.evaluateRecommendation({
      domain: DOMAIN,
      confidence: 0.95,
      recommendationId: 'r-1',
    });
    expect(early).toMatchObject({ failClosed: false, outcome: 'INCONCLUSIVE', action: 'REQUIRE_APPROVAL' });

    const flushed: string[] = [];
    // Heartbeats flush too (on connect); only the trials count here.
    sdk.on('flushed', (event) => event.kind === 'sandbox' && flushed.push(event.id));
    const recorded = [true, true, false].map((success, i) =>
      sdk.recordSandboxTrial({ domain: DOMAIN, trialId: `sdk-${i}`, success }),
    );
    await waitFor(() => flushed.length === 3, { what: 'three trials flushed' });
    expect(flushed).toEqual(recorded.map((r) => r.id));
    await waitFor(
      async () => {
        const { domains } = (await operate('policies', {})) as {
          domains: { domain: string; scorecard: { trials: number } }[];
        };
        return domains.find((d) => d.domain === DOMAIN)?.scorecard.trials === 3;
      },
      { what: 'three trials in the scorecard' },
    );
    await operate('cmd.enable-prod-use', { domain: DOMAIN });

    const eligible = await sdk.evaluateRecommendation({
      domain: DOMAIN,
      confidence: 0.95,
      recommendationId: 'r-2',
    });
    expect(eligible).toMatchObject({
      failClosed: false,
      outcome: 'ELIGIBLE',
      eligible: true,
      engineId: sdk.engineId,
      recommendationId: 'r-2',
      scorecard: { trials: 3, successes: 2 },
    });
    // From JavaScript a required field can be missing: the schema is checked at the call site.
    const withoutTrialId = { domain: DOMAIN, success: true } as SandboxTrialInput;
    expect(() => sdk.recordSandboxTrial(withoutTrialId)).toThrow(/trialId/);
  }

  function expectFailClosed(result: EvaluationResult, code: RegExp) {
    expect(result).toMatchObject({
      failClosed: true,
      outcome: 'NOT_ELIGIBLE',
      eligible: false,
      action: 'BLOCK',
      domain: DOMAIN,
      gates: [{ name: 'sdk.failClosed', result: 'FAIL', outcome: 'BLOCK' }],
    });
    expect(result.failClosed && result.code).toMatch(code);
  }

  describe('over NATS', () => {
    let ns: TestNamespace;
    let heimdall: RunningService | undefined;
    let operatorNc: NatsConnection;

    beforeAll(async () => {
      ns = await createTestNamespace('sdkheim');
      heimdall = await startTestService(HeimdallConfig, heimdallService, ns, { LOG_LEVEL: 'error' });
      operatorNc = await connect({ servers: ns.natsUrl });
    });
    afterAll(async () => {
      await operatorNc.close();
      await heimdall?.close();
      await ns.cleanup();
    });

    it('should record trials and get evaluations, then fail closed once Heimdall is gone', async () => {
      const sdk = client({ natsUrl: ns.natsUrl, namespace: ns.namespace, engineId: 'sdk-bot' });
      expect(await sdk.whenConnected(5_000)).toBe(true);
      // Operators go through the gateway in production; here the rpc directly, as the gateway sends it.
      const operate = async (operation: string, body: object) => {
        const reply = await operatorNc.request(
          ns.naming.rpcSubject('heimdall', operation),
          JSON.stringify(operation === 'policies' ? {} : { actor: OPERATOR, reason: 'sdk test', ...body }),
        );
        const decoded = reply.json<{ ok: boolean; data: unknown; error?: unknown }>();
        if (!decoded.ok) throw new Error(JSON.stringify(decoded.error));
        return decoded.data;
      };
      await story(sdk, operate);

      expectFailClosed(
        await sdk.evaluateRecommendation({ domain: DOMAIN, confidence: 2 }),
        /^SDK\.INVALID_REQUEST$/,
      );
      await heimdall?.close();
      heimdall = undefined;
      expectFailClosed(
        await sdk.evaluateRecommendation({ domain: DOMAIN, confidence: 0.95 }),
        /^(SDK\.SERVICE_UNAVAILABLE|RPC\.NO_RESPONDERS)$/,
      );
    });
  });

  describe('over HTTP through the real gateway', () => {
    let h: GatewayHarness;
    let heimdall: RunningService | undefined;
    let apiKey: string;
    let admin: string;

    beforeAll(async () => {
      h = await startGateway('sdkheimgw');
      heimdall = await startTestService(HeimdallConfig, heimdallService, h.ns, { LOG_LEVEL: 'error' });
      apiKey = (await h.createKey('engine', { engineId: 'sdk-http-bot' })).apiKey;
      admin = (await h.createKey('admin')).apiKey;
    });
    afterAll(async () => {
      await heimdall?.close();
      await h.close();
    });

    it('should record trials and get evaluations, then fail closed once Heimdall is gone', async () => {
      const sdk = client({ gatewayUrl: h.gateway.url, apiKey, engineId: 'sdk-http-bot' });
      expect(await sdk.whenConnected(5_000)).toBe(true);
      const operate = async (operation: string, body: object) => {
        const { domain: _domain, ...thresholds } = body as { domain?: string };
        const request =
          operation === 'policies'
            ? h.http('GET', '/api/v1/heimdall/policies', { key: admin })
            : operation === 'cmd.upsert-policy'
              ? h.http('PUT', `/api/v1/heimdall/policies/${DOMAIN}`, {
                  key: admin,
                  body: { ...thresholds, reason: 'sdk test' },
                })
              : h.http('POST', `/api/v1/heimdall/policies/${DOMAIN}/prod-use/enable`, {
                  key: admin,
                  body: { reason: 'sdk test' },
                });
        const response = await request;
        if (response.status !== 200) throw new Error(JSON.stringify(response.body));
        return response.body;
      };
      await story(sdk, operate);

      await heimdall?.close();
      heimdall = undefined;
      expectFailClosed(
        await sdk.evaluateRecommendation({ domain: DOMAIN, confidence: 0.95 }),
        /^(SDK\.SERVICE_UNAVAILABLE|RPC\.NO_RESPONDERS)$/,
      );
    });
  });
});
