import type { GateCheckReply } from '@bifrost/contracts';
import { createEnvelope, Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import {
  createTestNamespace,
  startTestService,
  waitFor,
  type TestNamespace,
  withinOneUtcDay,
} from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the pause is checked at the real gate
import { GateConfig, gateService } from '../../gate/src/gate.service';
import {
  canaryEvents,
  connectClient,
  controlledServer,
  heartbeat,
  httpProbe,
  OPERATOR,
  probeView,
  removeProbe,
  startCanary,
  upsertProbe,
} from './canary.fixtures';
import { CANARY_ACTOR, CanaryCommands } from './commands/canary-commands.service';
import { CanaryState } from './state/canary-state';

jest.setTimeout(60_000);

/** JetStream refusing some of the canary's writes: the events stream stops taking some subjects. */
describe('canary service when JetStream does not store some of its events', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;
  let gate: RunningService;
  let canary: RunningService;

  beforeAll(async () => {
    ns = await createTestNamespace('canaryfault');
    client = await connectClient(ns);
    gate = await startTestService(GateConfig, gateService, ns, { LOG_LEVEL: 'error' });
    canary = await startCanary(ns, { CANARY_SUMMARY_INTERVAL_MS: '1000' });
  });
  afterAll(async () => {
    await canary.close();
    await gate.close();
    await client.drain();
    await ns.cleanup();
  });

  /** Runs `during` while the events stream takes every subject but those of `excluded`. */
  const withoutSubjects = async (excluded: string[], during: () => Promise<void>) => {
    const { name } = ns.naming.streams.events;
    const { config } = await client.jsm.streams.info(name);
    const prefix = ns.naming.qualify('bifrost.evt');
    const others = ['gate', 'risk', 'tripwire', 'heimdall', 'governance', 'system', 'gateway'];
    await client.jsm.streams.update(name, {
      ...config,
      subjects: [
        ...others.map((context) => `${prefix}.${context}.>`),
        ...['probe', 'engine', 'summary']
          .map((kind) => `${prefix}.canary.${kind}.>`)
          .filter((subject) => !excluded.includes(subject)),
      ],
    });
    try {
      await during();
    } finally {
      await client.jsm.streams.update(name, config);
    }
  };

  it('should ask for the pause of a pause_engine probe again until it is stored, and pause the engine once', async () => {
    const server = await controlledServer();
    server.mode = 'fail';
    const engineEvents = `${ns.naming.qualify('bifrost.evt')}.canary.engine.>`;
    try {
      await withoutSubjects([engineEvents], async () => {
        await upsertProbe(
          client,
          httpProbe('ledger-db', server.url, { action: 'pause_engine', engineId: 'f1' }),
        );
        await waitFor(async () => (await probeView(client, 'ledger-db'))?.status === 'DOWN', {
          what: 'ledger-db DOWN',
        });
        // The alert is stored; the pause cannot be, for a while.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        expect((await canaryEvents(client, ns, 'engine', 'f1')).length).toBe(0);
      });

      await waitFor(
        async () =>
          (await client.rpc.call<GateCheckReply>('bifrost.rpc.gate.check', checkOf('f1'))).action === 'PAUSE',
        { what: 'f1 paused at the gate', timeoutMs: 15_000 },
      );
      const pauses = (await canaryEvents(client, ns, 'engine', 'f1')).filter(
        (e) => e.type === 'canary.EnginePauseRequested',
      );
      expect(pauses.map((e) => e.data)).toEqual([
        expect.objectContaining({ engineId: 'f1', probeName: 'ledger-db' }),
      ]);
    } finally {
      await removeProbe(client, 'ledger-db');
      await server.close();
    }
  });

  it('should carry the period and counts of a summary it could not publish into the next', async () => {
    const server = await controlledServer();
    const summaries = async () =>
      (
        await client.eventStore.read(
          ns.naming.eventSubject('canary', 'summary', new Date().toISOString().slice(0, 10)),
        )
      ).events;
    try {
      await upsertProbe(client, httpProbe('counted', server.url, { intervalMs: 100 }));
      await waitFor(async () => (await summaries()).length >= 1, { what: 'a first summary' });
      await withoutSubjects([`${ns.naming.qualify('bifrost.evt')}.canary.summary.>`], async () => {
        await new Promise((resolve) => setTimeout(resolve, 2_500));
      });
      const stored = await waitFor(
        async () => {
          const all = (await summaries()).map((e) => e.envelope.data as { from: string; to: string });
          const longest = Math.max(...all.map((s) => Date.parse(s.to) - Date.parse(s.from)));
          return longest >= 2_000 ? all : undefined;
        },
        { what: 'a summary covering the outage', timeoutMs: 15_000 },
      );
      // Contiguous periods: no time (and no check counted in it) left out by the failed publishes.
      for (let i = 1; i < stored.length; i += 1) expect(stored[i]?.from).toBe(stored[i - 1]?.to);
      const outage = stored.find((s) => Date.parse(s.to) - Date.parse(s.from) >= 2_000) as unknown as {
        probes: { probeName: string; checks: number }[];
      };
      // About 10 checks a second, over at least the 2 s the stream did not take summaries.
      expect(outage.probes.find((p) => p.probeName === 'counted')?.checks).toBeGreaterThanOrEqual(15);
    } finally {
      await removeProbe(client, 'counted');
      await server.close();
    }
  });

  it('should ask again, after a restart, for a pause it could not store before it stopped', async () => {
    const server = await controlledServer();
    server.mode = 'fail';
    const engineEvents = `${ns.naming.qualify('bifrost.evt')}.canary.engine.>`;
    try {
      await withoutSubjects([engineEvents], async () => {
        await upsertProbe(client, httpProbe('feed', server.url, { action: 'pause_engine', engineId: 'f2' }));
        await waitFor(async () => (await probeView(client, 'feed'))?.status === 'DOWN', {
          what: 'feed DOWN',
        });
        // Stopped (a deploy, a crash) while the pause request cannot be stored.
        await canary.close();
      });
      canary = await startCanary(ns, { CANARY_SUMMARY_INTERVAL_MS: '1000' });

      await waitFor(
        async () =>
          (await client.rpc.call<GateCheckReply>('bifrost.rpc.gate.check', checkOf('f2'))).action === 'PAUSE',
        { what: 'f2 paused at the gate', timeoutMs: 15_000 },
      );
      expect((await probeView(client, 'feed'))?.status).toBe('DOWN');
      const pauses = async () =>
        (await canaryEvents(client, ns, 'engine', 'f2')).filter(
          (e) => e.type === 'canary.EnginePauseRequested',
        );
      expect((await pauses()).map((e) => e.data)).toEqual([
        expect.objectContaining({ engineId: 'f2', probeName: 'feed' }),
      ]);
      // Once stored, another start does not ask again.
      await canary.close();
      canary = await startCanary(ns, { CANARY_SUMMARY_INTERVAL_MS: '1000' });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await pauses()).toHaveLength(1);
    } finally {
      await removeProbe(client, 'feed');
      await server.close();
    }
  });

  it('should not judge an engine whose newest heartbeat signed off, while that sign-off is not stored yet', async () => {
    await canary.close();
    canary = await startCanary(ns, { CANARY_HEARTBEAT_GAP_MS: '1000', CANARY_HEARTBEAT_SWEEP_MS: '100' });
    await heartbeat(client, ns, 'so1');
    await waitFor(async () => (await canaryEvents(client, ns, 'engine', 'so1')).length > 0, {
      what: 'so1 watched',
    });
    const engineEvents = `${ns.naming.qualify('bifrost.evt')}.canary.engine.>`;
    await withoutSubjects([engineEvents], async () => {
      // The sign-off reaches the canary, its OFFLINE cannot be stored; the gap passes meanwhile.
      await heartbeat(client, ns, 'so1', { signingOff: true });
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    });
    await waitFor(
      async () =>
        (await canaryEvents(client, ns, 'engine', 'so1')).some((e) => e.type === 'canary.EngineSignedOff'),
      { what: 'the sign-off stored', timeoutMs: 15_000 },
    );
    const types = (await canaryEvents(client, ns, 'engine', 'so1')).map((e) => e.type);
    expect(types).not.toContain('canary.EngineWentStale');
    expect(types).not.toContain('canary.EnginePauseRequested');
  });

  it('should resume an engine back while its dead-man pause request was being stored (auto-resume on)', async () => {
    await canary.close();
    // No timed sweep: the test runs the one that matters.
    canary = await startCanary(ns, { CANARY_HEARTBEAT_GAP_MS: '1000', CANARY_HEARTBEAT_SWEEP_MS: '3600000' });
    const engineId = 'race1';
    const subject = ns.naming.eventSubject('canary', 'engine', engineId);
    const types = async () => (await canaryEvents(client, ns, 'engine', engineId)).map((e) => e.type);
    const lastBeat = new Date().toISOString();
    await heartbeat(client, ns, engineId, { occurredAt: lastBeat });
    await waitFor(async () => (await types()).length > 0, { what: 'race1 watched' });
    await client.rpc.call('bifrost.rpc.canary.cmd.heartbeat-policy', {
      actor: OPERATOR,
      reason: 'flaky network, resume by itself',
      engineId,
      autoResume: true,
    });
    // The sweep's staleness, stored one message at a time: its pause request is not stored yet.
    const at = new Date(Date.parse(lastBeat) + 2_000).toISOString();
    const alertId = `engine:${engineId}:1`;
    const stale = [
      {
        type: 'canary.EngineWentStale',
        data: { engineId, lastHeartbeatAt: lastBeat, allowedGapMs: 1_000, silentForMs: 2_000, alertId, at },
      },
      {
        type: 'canary.AlertRaised',
        data: { alertId, engineId, action: 'pause_engine', reason: 'no heartbeat', at },
      },
    ].map(({ type, data }) =>
      createEnvelope({ type, subject, source: 'canary', actor: CANARY_ACTOR, data, occurredAt: at }),
    );
    await client.eventStore.append(subject, stale, (await client.eventStore.read(subject)).lastSequence);
    const state = canary.app.get(CanaryState);
    await waitFor(
      async () => {
        const engine = state.engine(engineId);
        return engine.status === 'watched' && engine.health === 'STALE';
      },
      { what: 'race1 STALE in the canary' },
    );

    // The pause request is stored while the fresh heartbeat's command waits its turn.
    const canaryMessaging = canary.app.get(Messaging);
    const commands = canary.app.get(CanaryCommands);
    const read = canaryMessaging.eventStore.read.bind(canaryMessaging.eventStore);
    let sweep: Promise<unknown> | undefined;
    const spy = jest.spyOn(canaryMessaging.eventStore, 'read').mockImplementation(async (...args) => {
      const result = await read(...args);
      sweep ??=
        args[0] === subject
          ? commands.engine(
              engineId,
              {
                type: 'CheckHeartbeat',
                data: { engineId, lastHeartbeatAt: lastBeat, now: new Date().toISOString() },
              },
              CANARY_ACTOR,
            )
          : undefined;
      return result;
    });
    try {
      await heartbeat(client, ns, engineId);
      await waitFor(async () => (await types()).includes('canary.EngineHeartbeatRestored'), {
        what: 'race1 restored',
      });
      await sweep;
    } finally {
      spy.mockRestore();
    }

    // The gate handles canary requests in order: once a later one acted, those before were handled.
    await client.publisher.publish(
      createEnvelope({
        type: 'canary.EnginePauseRequested',
        subject: ns.naming.eventSubject('canary', 'engine', 'race1-marker'),
        source: 'canary',
        actor: CANARY_ACTOR,
        data: { engineId: 'race1-marker', reason: 'marker' },
      }),
    );
    await waitFor(
      async () =>
        (await client.rpc.call<GateCheckReply>('bifrost.rpc.gate.check', checkOf('race1-marker'))).action ===
        'PAUSE',
      { what: 'the later request handled' },
    );
    // Alive, heard from, auto-resume on: not left paused.
    expect(
      (await client.rpc.call<GateCheckReply>('bifrost.rpc.gate.check', checkOf(engineId))).action,
    ).not.toBe('PAUSE');
  });
});

function checkOf(engineId: string) {
  return { engineId, strategyId: 's1', action: { kind: 'order.place', intent: 'open' } };
}
