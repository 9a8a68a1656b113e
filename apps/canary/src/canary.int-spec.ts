import type { GateCheckReply } from '@bifrost/contracts';
import { createEnvelope, type Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, startTestService, waitFor, type TestNamespace } from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the requests are tested against the real gate
import { GateConfig, gateService } from '../../gate/src/gate.service';
import {
  OPERATOR,
  canaryEvents,
  connectClient,
  controlledServer,
  heartbeat,
  httpProbe,
  hungServer,
  probeView,
  removeProbe,
  startCanary,
  status,
  upsertProbe,
  type ControlledServer,
} from './canary.fixtures';

describe('canary service', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let gate: RunningService;
  let canary: RunningService;

  const check = (engineId: string) =>
    client.rpc.call<GateCheckReply>('bifrost.rpc.gate.check', {
      engineId,
      strategyId: 's1',
      action: { kind: 'order.place', intent: 'open' },
    });

  beforeAll(async () => {
    ns = await createTestNamespace('canary');
    client = await connectClient(ns);
    // The gate follows new canary events: it starts first.
    gate = await startTestService(GateConfig, gateService, ns, { LOG_LEVEL: 'error' });
    canary = await startCanary(ns, { CANARY_HEARTBEAT_GAP_MS: '1000', CANARY_SUMMARY_INTERVAL_MS: '1000' });
  });
  afterAll(async () => {
    await canary.close();
    await gate.close();
    await client.drain();
    await ns.cleanup();
  });

  describe('Given a kill_switch probe on a real HTTP server', () => {
    let server: ControlledServer;
    beforeAll(async () => {
      server = await controlledServer();
    });
    afterAll(() => server.close());

    it('should engage the kill switch after 3 consecutive failures, and recovery should not release it', async () => {
      await upsertProbe(client, httpProbe('exchange', server.url, { action: 'kill_switch', engineId: 'k1' }));
      await waitFor(async () => (await probeView(client, 'exchange'))?.status === 'UP', {
        what: 'exchange UP',
      });
      expect((await check('k1')).action).not.toBe('KILL');

      server.mode = 'fail';
      await waitFor(async () => (await check('k1')).action === 'KILL', { what: 'the gate to answer KILL' });
      const events = await canaryEvents(client, ns, 'probe', 'exchange');
      const down = events.find((e) => e.type === 'canary.ProbeStatusChanged' && e.data['to'] === 'DOWN');
      expect(down?.data).toMatchObject({ from: 'UP', consecutiveFailures: 3, detail: 'HTTP 503' });
      expect(events.filter((e) => e.type === 'canary.KillSwitchRequested').map((e) => e.data)).toEqual([
        expect.objectContaining({
          probeName: 'exchange',
          engineId: 'k1',
          mode: 'hard',
          consecutiveFailures: 3,
        }),
      ]);

      server.mode = 'ok';
      await waitFor(async () => (await probeView(client, 'exchange'))?.status === 'UP', { what: 'recovery' });
      expect((await check('k1')).action).toBe('KILL');
      const view = await probeView(client, 'exchange');
      expect(view?.alert).toMatchObject({ alertId: 'probe:exchange:1', resolvedAt: expect.any(String) });

      await client.rpc.call('bifrost.rpc.gate.cmd.kill-switch.release', {
        actor: OPERATOR,
        engineId: 'k1',
        reason: 'exchange is back',
      });
      expect((await check('k1')).action).not.toBe('KILL');
    });

    it('should publish check results only on status changes', async () => {
      const before = server.requests;
      await waitFor(() => server.requests >= before + 5, { what: 'five more checks' });
      const changes = (await canaryEvents(client, ns, 'probe', 'exchange')).filter(
        (e) => e.type === 'canary.ProbeStatusChanged',
      );
      expect(changes.map((e) => `${String(e.data['from'])}→${String(e.data['to'])}`)).toEqual([
        'UNKNOWN→UP',
        'UP→DOWN',
        'DOWN→UP',
      ]);
    });

    it('should publish a periodic summary with the checks run since the last one', async () => {
      const summaries = await waitFor(
        async () => {
          const found: Record<string, unknown>[] = [];
          await client.eventStore.readAll(ns.naming.qualify('bifrost.evt.canary.summary.*'), 1, (e) => {
            found.push(e.envelope.data);
          });
          return found.length > 0 && found;
        },
        { what: 'a summary' },
      );
      const exchange = (summaries.at(-1)?.['probes'] as { probeName: string; checks: number }[]).find(
        (p) => p.probeName === 'exchange',
      );
      expect(exchange?.checks).toBeGreaterThan(0);
    });

    it('should let an operator acknowledge the alert', async () => {
      const acked = await client.rpc.call<{ acknowledged: unknown }>('bifrost.rpc.canary.cmd.ack-alert', {
        actor: OPERATOR,
        reason: 'seen',
        alertId: 'probe:exchange:1',
      });
      expect(acked.acknowledged).toMatchObject({ actor: OPERATOR, reason: 'seen' });
      await expect(
        client.rpc.call('bifrost.rpc.canary.cmd.ack-alert', {
          actor: OPERATOR,
          reason: 'x',
          alertId: 'probe:exchange:7',
        }),
      ).rejects.toMatchObject({ code: 'CANARY.ALERT_UNKNOWN' });
    });
  });

  describe('Given an alert_only probe that has failed 5 times, escalated to kill_switch', () => {
    it('should request the kill switch with the failures counted so far, not the threshold', async () => {
      const server = await controlledServer();
      server.mode = 'fail';
      try {
        await upsertProbe(client, httpProbe('clearing', server.url, { engineId: 'k2' }));
        const seen = await waitFor(
          async () => {
            const count = (await probeView(client, 'clearing'))?.consecutiveFailures ?? 0;
            return count >= 5 && count;
          },
          { what: 'five failures' },
        );

        await upsertProbe(
          client,
          httpProbe('clearing', server.url, { action: 'kill_switch', engineId: 'k2' }),
        );
        await waitFor(async () => (await check('k2')).action === 'KILL', { what: 'k2 killed' });

        const requests = (await canaryEvents(client, ns, 'probe', 'clearing')).filter(
          (e) => e.type === 'canary.KillSwitchRequested',
        );
        expect(requests).toHaveLength(1);
        expect(requests[0]?.data['consecutiveFailures']).toBeGreaterThanOrEqual(seen);
      } finally {
        await removeProbe(client, 'clearing');
        await client.rpc.call('bifrost.rpc.gate.cmd.kill-switch.release', {
          actor: OPERATOR,
          engineId: 'k2',
          reason: 'test over',
        });
        await server.close();
      }
    });
  });

  describe('Given an alert_only probe naming an engine, DOWN, then escalated to pause_engine', () => {
    it("should resolve its alert before raising the next (both naming the engine) and pause the engine in the probe's name", async () => {
      const server = await controlledServer();
      server.mode = 'fail';
      try {
        await upsertProbe(client, httpProbe('broker', server.url, { engineId: 'p1' }));
        await waitFor(async () => (await probeView(client, 'broker'))?.status === 'DOWN', {
          what: 'broker DOWN',
        });
        expect((await check('p1')).action).not.toBe('PAUSE');

        await upsertProbe(
          client,
          httpProbe('broker', server.url, { action: 'pause_engine', engineId: 'p1' }),
        );
        await waitFor(async () => (await check('p1')).action === 'PAUSE', { what: 'p1 paused' });

        const alerts = (await canaryEvents(client, ns, 'probe', 'broker')).filter((e) =>
          e.type.startsWith('canary.Alert'),
        );
        expect(alerts.map((e) => [e.type, e.data['alertId'], e.data['engineId']])).toEqual([
          ['canary.AlertRaised', 'probe:broker:1', 'p1'],
          ['canary.AlertResolved', 'probe:broker:1', undefined],
          ['canary.AlertRaised', 'probe:broker:2', 'p1'],
        ]);
        const pauses = (await canaryEvents(client, ns, 'engine', 'p1')).filter(
          (e) => e.type === 'canary.EnginePauseRequested',
        );
        expect(pauses.map((e) => e.data)).toEqual([
          expect.objectContaining({ engineId: 'p1', probeName: 'broker' }),
        ]);
        expect((await probeView(client, 'broker'))?.alert).toMatchObject({
          alertId: 'probe:broker:2',
          resolvedAt: null,
        });
      } finally {
        await removeProbe(client, 'broker');
        await server.close();
      }
    });
  });

  describe('Given a pause_engine probe whose expected body, 200 emoji, never comes', () => {
    it('should pause the engine, the reason keeping every emoji whole', async () => {
      const server = await controlledServer();
      // With this name the pause reason has more than 500 UTF-16 code units, but 302 code points.
      const name = 'emoji-body-'.padEnd(32, 'x');
      const expectBody = '😀'.repeat(200);
      try {
        await upsertProbe(
          client,
          httpProbe(name, server.url, { action: 'pause_engine', engineId: 'p2', expectBody }),
        );
        await waitFor(async () => (await check('p2')).action === 'PAUSE', { what: 'p2 paused' });
        const pauses = (await canaryEvents(client, ns, 'engine', 'p2')).filter(
          (e) => e.type === 'canary.EnginePauseRequested',
        );
        expect(pauses.map((e) => e.data['reason'])).toEqual([
          `probe ${name}: 3 consecutive failures (threshold 3): body does not contain "${expectBody}"`,
        ]);
      } finally {
        await removeProbe(client, name);
        await server.close();
      }
    });
  });

  describe('Given a hung target (accepts the connection, never answers)', () => {
    it('should count timeouts as failures while other probes keep running', async () => {
      const hung = await hungServer();
      const healthy = await controlledServer();
      try {
        await upsertProbe(client, httpProbe('hung', hung.url, { timeoutMs: 150, intervalMs: 200 }));
        await upsertProbe(client, httpProbe('healthy', healthy.url));

        await waitFor(async () => (await probeView(client, 'hung'))?.status === 'DOWN', {
          what: 'hung DOWN',
        });
        const view = await probeView(client, 'hung');
        expect(view?.lastDetail).toBe('timeout after 150 ms');
        const beforeHealthy = healthy.requests;
        const beforeHung = hung.connections;
        // A connection counts when a check starts, its failure when it times out: wait for the failures.
        await waitFor(
          async () =>
            healthy.requests >= beforeHealthy + 5 &&
            hung.connections >= beforeHung + 2 &&
            ((await probeView(client, 'hung'))?.consecutiveFailures ?? 0) >= 5,
          { what: 'both probes to keep checking, five failures of the hung one in a row' },
        );
        expect((await probeView(client, 'healthy'))?.status).toBe('UP');
        expect((await probeView(client, 'hung'))?.consecutiveFailures).toBeGreaterThanOrEqual(5);

        const metrics = await (await fetch(`${canary.url}/metrics`)).text();
        expect(metrics).toMatch(/bifrost_canary_up\{probe="hung",service="canary"\} 0/);
        expect(metrics).toMatch(/bifrost_canary_up\{probe="healthy",service="canary"\} 1/);
        expect(metrics).toMatch(/bifrost_canary_consecutive_failures\{probe="hung",service="canary"\} [1-9]/);
      } finally {
        await removeProbe(client, 'hung');
        await removeProbe(client, 'healthy');
        await hung.close();
        await healthy.close();
      }
    });
  });

  describe('Given engines sending heartbeats (allowed gap 1 s)', () => {
    it('should pause the silent engine only, and keep it paused on a fresh heartbeat without auto-resume', async () => {
      await heartbeat(client, ns, 'alive');
      // From its first heartbeat on: however long the wait below takes, alive never falls silent.
      const beat = setInterval(() => void heartbeat(client, ns, 'alive').catch(() => undefined), 200);
      try {
        await heartbeat(client, ns, 'silent');
        await waitFor(async () => (await status(client)).engines.length >= 2, {
          what: 'both engines watched',
        });
        await waitFor(async () => (await check('silent')).action === 'PAUSE', { what: 'silent paused' });
        expect((await check('alive')).action).not.toBe('PAUSE');
        const engines = (await status(client)).engines;
        expect(engines.find((e) => e.engineId === 'silent')).toMatchObject({
          status: 'STALE',
          allowedGapMs: 1000,
        });
        expect(engines.find((e) => e.engineId === 'alive')).toMatchObject({ status: 'ALIVE' });
        const types = (await canaryEvents(client, ns, 'engine', 'silent')).map((e) => e.type);
        expect(types).toEqual([
          'canary.EngineWatched',
          'canary.EngineWentStale',
          'canary.AlertRaised',
          'canary.EnginePauseRequested',
        ]);

        await heartbeat(client, ns, 'silent');
        await waitFor(
          async () => (await status(client)).engines.find((e) => e.engineId === 'silent')?.status === 'ALIVE',
          { what: 'silent ALIVE again' },
        );
        expect((await check('silent')).action).toBe('PAUSE');
      } finally {
        clearInterval(beat);
      }
    });

    it('should allow an engine three of the heartbeat intervals it declares, and judge it by them', async () => {
      const engineView = async () => (await status(client)).engines.find((e) => e.engineId === 'slow');
      await heartbeat(client, ns, 'slow', { intervalMs: 1_500 });
      await waitFor(async () => (await engineView())?.allowedGapMs === 4_500, {
        what: 'slow watched, 3 × 1.5 s',
      });

      // Silent for twice the service's 1 s gap, within its own 4.5 s: not stale.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(await engineView()).toMatchObject({ status: 'ALIVE' });
      await waitFor(async () => (await engineView())?.status === 'STALE', { what: 'slow STALE after 4.5 s' });
      const stale = (await canaryEvents(client, ns, 'engine', 'slow')).find(
        (e) => e.type === 'canary.EngineWentStale',
      );
      expect(stale?.data['allowedGapMs']).toBe(4_500);
    });

    it('should resume a dead-man pause on a fresh heartbeat once an operator enabled auto-resume', async () => {
      await heartbeat(client, ns, 'auto');
      await client.rpc.call('bifrost.rpc.canary.cmd.heartbeat-policy', {
        actor: OPERATOR,
        reason: 'flaky network, resume by itself',
        engineId: 'auto',
        autoResume: true,
      });
      await waitFor(async () => (await check('auto')).action === 'PAUSE', { what: 'auto paused' });

      await heartbeat(client, ns, 'auto');
      await waitFor(async () => (await check('auto')).action !== 'PAUSE', { what: 'auto resumed' });
      const { events } = await client.eventStore.read(ns.naming.eventSubject('gate', 'control', 'global'));
      const resumed = events.find(
        (e) => e.envelope.type === 'gate.EngineResumed' && e.envelope.data['engineId'] === 'auto',
      );
      expect(resumed?.envelope.actor).toEqual(OPERATOR);
    });

    it("should keep a pause_engine probe's pause when the engine fell silent after it and came back with auto-resume", async () => {
      const server = await controlledServer();
      server.mode = 'fail';
      await heartbeat(client, ns, 'probed');
      const beat = setInterval(() => void heartbeat(client, ns, 'probed').catch(() => undefined), 200);
      const engineEvents = () => canaryEvents(client, ns, 'engine', 'probed');
      try {
        await client.rpc.call('bifrost.rpc.canary.cmd.heartbeat-policy', {
          actor: OPERATOR,
          reason: 'flaky network, resume by itself',
          engineId: 'probed',
          autoResume: true,
        });
        // The probe asks first, while the engine is alive: the gate's one pause is the probe's.
        await upsertProbe(
          client,
          httpProbe('probed-broker', server.url, { action: 'pause_engine', engineId: 'probed' }),
        );
        await waitFor(async () => (await check('probed')).action === 'PAUSE', { what: 'probed paused' });
        clearInterval(beat);
        await waitFor(
          async () =>
            (await engineEvents()).some(
              (e) => e.type === 'canary.EnginePauseRequested' && e.data['probeName'] === undefined,
            ),
          { what: "the dead-man switch's pause request" },
        );

        await heartbeat(client, ns, 'probed');
        await waitFor(
          async () => (await engineEvents()).some((e) => e.type === 'canary.EngineResumeRequested'),
          { what: 'the auto-resume request' },
        );
        // The gate handles canary requests in order: once a later one acted, the resume was handled.
        const marker = createEnvelope({
          type: 'canary.EnginePauseRequested',
          subject: ns.naming.eventSubject('canary', 'engine', 'probed-marker'),
          source: 'canary',
          actor: { kind: 'system', id: 'canary' },
          data: { engineId: 'probed-marker', reason: 'marker' },
        });
        await client.publisher.publish(marker);
        await waitFor(async () => (await check('probed-marker')).action === 'PAUSE', {
          what: 'the later request handled',
        });
        expect((await check('probed')).action).toBe('PAUSE');
      } finally {
        clearInterval(beat);
        await removeProbe(client, 'probed-broker');
        await server.close();
      }
    });
  });

  describe('Given an engine that signs off (allowed gap 1 s)', () => {
    it('should mark it OFFLINE and not pause it, however long it is silent, until it is back', async () => {
      const engineView = async () => (await status(client)).engines.find((e) => e.engineId === 'leaving');
      await heartbeat(client, ns, 'leaving');
      await waitFor(async () => (await engineView())?.status === 'ALIVE', { what: 'leaving watched' });
      const signedOffAt = new Date().toISOString();
      await heartbeat(client, ns, 'leaving', { signingOff: true, occurredAt: signedOffAt });
      await waitFor(async () => (await engineView())?.status === 'OFFLINE', { what: 'leaving OFFLINE' });

      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect((await check('leaving')).action).not.toBe('PAUSE');
      expect(await engineView()).toMatchObject({ status: 'OFFLINE', staleSince: null });

      await heartbeat(client, ns, 'leaving');
      await waitFor(async () => (await engineView())?.status === 'ALIVE', { what: 'leaving back' });
      // A sign-off older than the heartbeat that brought it back (a redelivery) changes nothing.
      await heartbeat(client, ns, 'leaving', { signingOff: true, occurredAt: signedOffAt });
      await waitFor(async () => (await check('leaving')).action === 'PAUSE', {
        what: 'leaving silent again',
      });
      const types = (await canaryEvents(client, ns, 'engine', 'leaving')).map((e) => e.type);
      expect(types).toEqual([
        'canary.EngineWatched',
        'canary.EngineSignedOff',
        'canary.EngineSignedOn',
        'canary.EngineWentStale',
        'canary.AlertRaised',
        'canary.EnginePauseRequested',
      ]);
    });
  });

  describe('bad input', () => {
    it('should refuse an invalid probe with a clear error and keep running', async () => {
      await expect(upsertProbe(client, httpProbe('bad', 'ftp://nowhere'))).rejects.toMatchObject({
        code: 'CANARY.INVALID_TARGET',
      });
      await expect(
        upsertProbe(client, httpProbe('pauser', 'http://127.0.0.1:9', { action: 'pause_engine' })),
      ).rejects.toMatchObject({ code: 'CANARY.INVALID_PROBE' });
      await expect(
        client.rpc.call('bifrost.rpc.canary.cmd.upsert-probe', {
          actor: OPERATOR,
          reason: 'x',
          probe: { name: 'x' },
        }),
      ).rejects.toMatchObject({ code: 'RPC.VALIDATION_FAILED' });
      await expect(
        client.rpc.call('bifrost.rpc.canary.cmd.upsert-probe', {
          actor: { kind: 'engine', id: 'e1' },
          reason: 'x',
          probe: httpProbe('sneaky', 'http://127.0.0.1:9'),
        }),
      ).rejects.toMatchObject({ code: 'CANARY.OPERATOR_REQUIRED' });
      expect((await status(client)).probes.map((p) => p.probe.name)).not.toContain('bad');
    });
  });
});
