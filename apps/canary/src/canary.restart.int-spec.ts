import { createEnvelope, type Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, infra, waitFor, type TestNamespace } from '@bifrost/testing';
import {
  OPERATOR,
  canaryEvents,
  connectClient,
  controlledServer,
  heartbeat,
  httpProbe,
  probeView,
  startCanary,
  status,
  upsertProbe,
  type ControlledServer,
} from './canary.fixtures';

describe('canary: default probes, pause_engine probes and restarts', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let server: ControlledServer;
  let canary: RunningService | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    ns = await createTestNamespace('canrs');
    client = await connectClient(ns);
    server = await controlledServer();
    env = {
      CANARY_DEFAULT_PROBES: 'true',
      CANARY_SERVICE_URLS: `gate=${server.url}`,
      DATABASE_URL: (await infra()).databaseUrl,
      CANARY_HEARTBEAT_GAP_MS: '60000',
    };
  });
  afterAll(async () => {
    await canary?.close();
    await server.close();
    await client.drain();
    await ns.cleanup();
  });

  it('should define the default probes on first start, all alert_only, and see NATS, Postgres and the service UP', async () => {
    canary = await startCanary(ns, env);
    const probes = (await status(client)).probes;
    expect(probes.map((p) => [p.probe.name, p.probe.kind, p.probe.target, p.probe.action])).toEqual([
      ['gate-ready', 'http', `${server.url}/health/ready`, 'alert_only'],
      ['nats', 'nats', 'bifrost.rpc.canary.ping', 'alert_only'],
      ['postgres', 'postgres', '$DATABASE_URL', 'alert_only'],
    ]);
    await waitFor(async () => (await status(client)).probes.every((p) => p.status === 'UP'), {
      what: 'every default probe UP',
    });
  });

  it('should ask the gate to pause the engine of a failing pause_engine probe', async () => {
    const failing = await controlledServer();
    failing.mode = 'fail';
    try {
      await upsertProbe(client, httpProbe('feed', failing.url, { action: 'pause_engine', engineId: 'p1' }));
      await waitFor(async () => (await probeView(client, 'feed'))?.status === 'DOWN', { what: 'feed DOWN' });
      await waitFor(
        async () =>
          (await canaryEvents(client, ns, 'engine', 'p1')).some(
            (e) => e.type === 'canary.EnginePauseRequested',
          ),
        { what: 'the pause request' },
      );
      const [pause] = (await canaryEvents(client, ns, 'engine', 'p1')).filter(
        (e) => e.type === 'canary.EnginePauseRequested',
      );
      expect(pause?.data['reason']).toMatch(/^probe feed: 3 consecutive failures/);
      expect(pause?.actor).toEqual({ kind: 'system', id: 'canary' });
    } finally {
      await failing.close();
    }
  });

  it('should rebuild its state on restart: DOWN stays DOWN, nothing asked twice, removed defaults stay removed', async () => {
    await client.rpc.call('bifrost.rpc.canary.cmd.remove-probe', {
      actor: OPERATOR,
      reason: 'no gate here',
      probeName: 'gate-ready',
    });
    await heartbeat(client, ns, 'e1', {
      policyRevision: 'rev-1',
      sdk: '@bifrost/sdk@0.1.0',
      activeSessions: 2,
    });
    await waitFor(async () => (await status(client)).engines.some((e) => e.engineId === 'e1'), {
      what: 'e1 watched',
    });
    await canary?.close();

    canary = await startCanary(ns, env);
    const after = await status(client);
    expect(after.probes.map((p) => p.probe.name)).toEqual(['feed', 'nats', 'postgres']);
    expect(after.probes.find((p) => p.probe.name === 'feed')?.status).toBe('DOWN');
    // The last heartbeat is read back from the ingest stream, with what it reported.
    expect(after.engines.find((e) => e.engineId === 'e1')).toMatchObject({
      status: 'ALIVE',
      lastHeartbeatAt: expect.any(String),
      policyRevision: 'rev-1',
      sdk: '@bifrost/sdk@0.1.0',
      activeSessions: 2,
      uptimeS: null,
    });

    // The target is gone: failures go on, but the probe is already DOWN.
    await waitFor(async () => ((await probeView(client, 'feed'))?.consecutiveFailures ?? 0) >= 4, {
      what: 'more failures after the restart',
    });
    const feed = await canaryEvents(client, ns, 'probe', 'feed');
    expect(feed.filter((e) => e.type === 'canary.AlertRaised')).toHaveLength(1);
    const pauses = (await canaryEvents(client, ns, 'engine', 'p1')).filter(
      (e) => e.type === 'canary.EnginePauseRequested',
    );
    expect(pauses).toHaveLength(1);
    const defined = await canaryEvents(client, ns, 'probe', 'nats');
    expect(defined.filter((e) => e.type === 'canary.ProbeDefined')).toHaveLength(1);
  });

  it('should act at once when an operator points a DOWN pause_engine probe at another engine', async () => {
    const feed = await probeView(client, 'feed');
    expect(feed?.status).toBe('DOWN');
    await upsertProbe(client, { ...feed!.probe, engineId: 'p2' });

    const pauses = (await canaryEvents(client, ns, 'engine', 'p2')).filter(
      (e) => e.type === 'canary.EnginePauseRequested',
    );
    expect(pauses).toHaveLength(1);
    expect(pauses[0]?.data['reason']).toMatch(/^probe feed: escalated to pause_engine while DOWN/);
  });

  it('should not read back, at a restart, a heartbeat the consumer refused (a sign-off sent by another engine)', async () => {
    await canary?.close();
    const judged = { ...env, CANARY_HEARTBEAT_GAP_MS: '5000', CANARY_HEARTBEAT_SWEEP_MS: '100' };
    canary = await startCanary(ns, judged);
    await heartbeat(client, ns, 'y1');
    await waitFor(async () => (await canaryEvents(client, ns, 'engine', 'y1')).length > 0, {
      what: 'y1 watched',
    });
    // The newest message on y1's subject: a sign-off in y1's name, sent by another engine.
    await client.publisher.publish(
      createEnvelope({
        type: 'ingest.HeartbeatReported',
        subject: ns.naming.ingestSubject('heartbeat', 'y1'),
        source: 'sdk',
        actor: { kind: 'engine', id: 'intruder' },
        data: { engineId: 'y1', signingOff: true },
      }),
    );
    await canary.close();
    const types = async () => (await canaryEvents(client, ns, 'engine', 'y1')).map((e) => e.type);
    expect(await types()).toEqual(['canary.EngineWatched']);

    canary = await startCanary(ns, judged);

    // Judged by its own last heartbeat: silent past the gap, it goes stale.
    await waitFor(async () => (await types()).includes('canary.EngineWentStale'), {
      what: 'y1 stale',
      timeoutMs: 20_000,
    });
    expect(await types()).not.toContain('canary.EngineSignedOff');
  });
});
