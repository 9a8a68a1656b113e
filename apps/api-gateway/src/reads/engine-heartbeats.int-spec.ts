import type { DataOf, HeartbeatReported } from '@bifrost/contracts';
import { createEnvelope } from '@bifrost/messaging';
import { waitFor } from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { CanaryConfig, canaryService } from '@bifrost/canary';
import { peer, startGatewayStack, type GatewayStack } from '../testing/gateway.fixtures';

describe("the engines' last heartbeat reports in GET /canary/status", () => {
  let h: GatewayStack<'canary'>;

  beforeAll(async () => {
    h = await startGatewayStack('gwbeat', {
      engineId: 'http-bot',
      peers: { canary: peer(CanaryConfig, canaryService, { CANARY_DEFAULT_PROBES: 'false' }) },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A heartbeat as an engine's SDK publishes it on `bifrost.ingest.heartbeat.<engineId>`. */
  const heartbeat = (data: DataOf<typeof HeartbeatReported>, occurredAt = new Date().toISOString()) =>
    h.probe.publisher.publish(
      createEnvelope({
        type: 'ingest.HeartbeatReported',
        subject: h.ns.naming.ingestSubject('heartbeat', data.engineId),
        source: 'sdk',
        actor: { kind: 'engine', id: data.engineId },
        data,
        occurredAt,
      }),
    );
  const engineView = async (engineId: string) => {
    const response = await h.http('GET', '/api/v1/canary/status', { key: h.keys.viewer });
    return (response.body.engines as Record<string, unknown>[]).find(
      (engine) => engine['engineId'] === engineId,
    );
  };

  describe('Given an engine on the current SDK and one on an older SDK', () => {
    it("should show the newest heartbeat's policy revision, SDK, sessions and uptime, and null where an engine said nothing", async () => {
      const aSecondAgo = new Date(Date.now() - 1_000).toISOString();
      await heartbeat(
        { engineId: 'new-bot', policyRevision: 'rev-1', sdk: '@bifrost/sdk@0.0.9', uptimeS: 10 },
        aSecondAgo,
      );
      await heartbeat({
        engineId: 'new-bot',
        policyRevision: 'rev-2',
        sdk: '@bifrost/sdk@0.1.0',
        activeSessions: 3,
        uptimeS: 20,
      });
      await heartbeat({ engineId: 'old-bot', status: 'ok', uptimeS: 5 });
      // Without the SDK, over HTTP: the same fields.
      await h.http('POST', '/api/v1/engine/heartbeat', {
        key: h.keys.engine,
        body: { engineId: 'http-bot', policyRevision: 'rev-2', activeSessions: 0 },
      });

      await waitFor(async () => (await engineView('new-bot'))?.['policyRevision'] === 'rev-2', {
        what: "new-bot's second heartbeat",
      });
      expect(await engineView('new-bot')).toMatchObject({
        status: 'ALIVE',
        policyRevision: 'rev-2',
        sdk: '@bifrost/sdk@0.1.0',
        activeSessions: 3,
        uptimeS: 20,
      });
      await waitFor(async () => (await engineView('old-bot')) !== undefined, { what: 'old-bot watched' });
      expect(await engineView('old-bot')).toMatchObject({
        status: 'ALIVE',
        policyRevision: null,
        sdk: null,
        activeSessions: null,
        uptimeS: 5,
      });
      await waitFor(async () => (await engineView('http-bot')) !== undefined, { what: 'http-bot watched' });
      expect(await engineView('http-bot')).toMatchObject({
        policyRevision: 'rev-2',
        sdk: null,
        activeSessions: 0,
        uptimeS: null,
      });
    });
  });
});
