import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { CanaryConfig, canaryService } from '@bifrost/canary';
import { peer, projectorPeer, startGatewayStack, type GatewayStack } from '../testing/gateway.fixtures';

describe('canary routes', () => {
  let h: GatewayStack<'canary' | 'projector'>;
  let target: Server;
  let targetUrl: string;
  const targetMode = { ok: true };

  beforeAll(async () => {
    target = createServer((_req, res) => {
      res.statusCode = targetMode.ok ? 200 : 503;
      res.end();
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/health`;
    h = await startGatewayStack('gwcan', {
      engineId: 'gw-bot',
      peers: {
        canary: peer(CanaryConfig, canaryService, { CANARY_DEFAULT_PROBES: 'false' }),
        projector: projectorPeer,
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    target.closeAllConnections();
    await new Promise((resolve) => target.close(resolve));
  });

  const probe = {
    reason: 'exchange connectivity',
    kind: 'http',
    target: '',
    intervalMs: 100,
    timeoutMs: 100,
    failureThreshold: 3,
    recoveryThreshold: 2,
    action: 'alert_only',
  };

  it('should let an admin (not a viewer or operator) add a probe, and validate it', async () => {
    const body = { ...probe, target: targetUrl };
    expect((await h.http('PUT', '/api/v1/canary/probes/exchange', { key: h.keys.viewer, body })).status).toBe(
      403,
    );
    expect(
      (await h.http('PUT', '/api/v1/canary/probes/exchange', { key: h.keys.operator, body })).status,
    ).toBe(403);
    expect(
      (
        await h.http('PUT', '/api/v1/canary/probes/exchange', {
          key: h.keys.admin,
          body: { ...body, intervalMs: 1 },
        })
      ).status,
    ).toBe(400);
    // A reason of spaces is a malformed request here as on every other route.
    expect(
      await h.http('PUT', '/api/v1/canary/probes/exchange', {
        key: h.keys.admin,
        body: { ...body, reason: '   ' },
      }),
    ).toMatchObject({ status: 400, body: { code: 'REQUEST.INVALID' } });
    const refused = await h.http('PUT', '/api/v1/canary/probes/exchange', {
      key: h.keys.admin,
      body: { ...body, target: 'not-a-url' },
    });
    expect(refused).toMatchObject({ status: 422, body: { code: 'CANARY.INVALID_TARGET' } });

    const added = await h.http('PUT', '/api/v1/canary/probes/exchange', { key: h.keys.admin, body });
    expect(added).toMatchObject({
      status: 200,
      body: { probe: { name: 'exchange', kind: 'http', action: 'alert_only' }, status: 'UNKNOWN' },
    });
  });

  it('should show the live status to a viewer, and the history and alerts from the read models', async () => {
    await waitFor(
      async () =>
        (await h.http('GET', '/api/v1/canary/probes', { key: h.keys.viewer })).body.probes?.[0]?.status ===
        'UP',
      { what: 'exchange UP' },
    );
    targetMode.ok = false;
    await waitFor(
      async () =>
        (await h.http('GET', '/api/v1/canary/status', { key: h.keys.viewer })).body.probes?.[0]?.status ===
        'DOWN',
      { what: 'exchange DOWN' },
    );
    const history = await waitFor(
      async () => {
        const items = (
          await h.http('GET', '/api/v1/canary/history?probeName=exchange', { key: h.keys.viewer })
        ).body.items;
        return items?.length === 2 && items;
      },
      { what: 'two status changes in the read model' },
    );
    expect(
      history.map((r: { fromStatus: string; toStatus: string }) => `${r.fromStatus}→${r.toStatus}`),
    ).toEqual(['UP→DOWN', 'UNKNOWN→UP']);
    const alerts = await waitFor(
      async () => {
        const items = (await h.http('GET', '/api/v1/canary/alerts?open=true', { key: h.keys.viewer })).body
          .items;
        return items?.length === 1 && items;
      },
      { what: 'the open alert' },
    );
    expect(alerts[0]).toMatchObject({
      alertId: 'probe:exchange:1',
      probeName: 'exchange',
      action: 'alert_only',
    });
  });

  it('should let an operator acknowledge the alert', async () => {
    expect(
      (
        await h.http('POST', '/api/v1/canary/alerts/probe:exchange:1/acknowledge', {
          key: h.keys.viewer,
          body: { reason: 'x' },
        })
      ).status,
    ).toBe(403);
    const acked = await h.http('POST', '/api/v1/canary/alerts/probe:exchange:1/acknowledge', {
      key: h.keys.operator,
      body: { reason: 'looking into it' },
    });
    expect(acked).toMatchObject({
      status: 200,
      body: { alertId: 'probe:exchange:1', acknowledged: { reason: 'looking into it' } },
    });
    expect(
      (
        await h.http('POST', '/api/v1/canary/alerts/probe:exchange:9/acknowledge', {
          key: h.keys.operator,
          body: { reason: 'x' },
        })
      ).status,
    ).toBe(404);
  });

  it('should watch an engine that sends heartbeats over HTTP, and let an admin set its policy', async () => {
    const sent = await h.http('POST', '/api/v1/engine/heartbeat', {
      key: h.keys.engine,
      body: { engineId: 'gw-bot' },
    });
    expect(sent.status).toBe(202);
    await waitFor(
      async () =>
        (await h.http('GET', '/api/v1/canary/status', { key: h.keys.viewer })).body.engines?.some(
          (e: { engineId: string }) => e.engineId === 'gw-bot',
        ),
      { what: 'gw-bot watched' },
    );
    const set = await h.http('PUT', '/api/v1/canary/engines/gw-bot/heartbeat-policy', {
      key: h.keys.admin,
      body: { reason: 'slow engine', allowedGapMs: 120_000, autoResume: true },
    });
    expect(set).toMatchObject({
      status: 200,
      body: { engineId: 'gw-bot', status: 'ALIVE', allowedGapMs: 120_000, autoResume: true },
    });
  });

  it('should let an admin remove a probe', async () => {
    const removed = await h.http('POST', '/api/v1/canary/probes/exchange/remove', {
      key: h.keys.admin,
      body: { reason: 'gone' },
    });
    expect(removed).toMatchObject({ status: 200, body: { probeName: 'exchange', removed: true } });
    expect((await h.http('GET', '/api/v1/canary/probes', { key: h.keys.viewer })).body.probes).toEqual([]);
  });
});
