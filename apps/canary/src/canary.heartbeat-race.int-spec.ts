import { Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, waitFor, type TestNamespace } from '@bifrost/testing';
import { canaryEvents, connectClient, heartbeat, startCanary } from './canary.fixtures';
import { CANARY_ACTOR, CanaryCommands } from './commands/canary-commands.service';
import { HeartbeatMonitor } from './heartbeats/heartbeat-monitor.service';
import { CanaryState } from './state/canary-state';

jest.setTimeout(60_000);

/**
 * A heartbeat that comes while the staleness sweep judges its engine: the order of the two is set
 * by the test (the sweep runs when the test says, a heartbeat is held until the moment wanted).
 */
describe('canary: a heartbeat racing the staleness sweep (allowed gap 1 s)', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let canary: RunningService;
  let monitor: HeartbeatMonitor;
  let state: CanaryState;

  beforeAll(async () => {
    ns = await createTestNamespace('canaryrace');
    client = await connectClient(ns);
    // No timed sweep: each test runs the one that matters.
    canary = await startCanary(ns, { CANARY_HEARTBEAT_GAP_MS: '1000', CANARY_HEARTBEAT_SWEEP_MS: '3600000' });
    monitor = canary.app.get(HeartbeatMonitor);
    state = canary.app.get(CanaryState);
  });
  afterAll(async () => {
    await canary.close();
    await client.drain();
    await ns.cleanup();
  });

  const health = (engineId: string) => {
    const engine = state.engine(engineId);
    return engine.status === 'watched' ? engine.health : null;
  };
  /** An engine watched, last heard from 10 s ago: the next sweep judges it silent. */
  const silentEngine = async (engineId: string) => {
    const last = new Date(Date.now() - 10_000).toISOString();
    await heartbeat(client, ns, engineId, { occurredAt: last });
    await waitFor(() => health(engineId) === 'ALIVE', { what: `${engineId} watched` });
    return last;
  };
  /** A fresh heartbeat, published as the engine would, once the canary has taken it in. */
  const freshHeartbeat = async (engineId: string, last: string) => {
    await heartbeat(client, ns, engineId);
    await waitFor(() => (monitor.lastHeartbeatAt(engineId) ?? '') > last, { what: `${engineId} heard from` });
  };

  it('should restore an engine whose heartbeat came while the sweep was storing its staleness', async () => {
    const engineId = 'race-append';
    const subject = ns.naming.eventSubject('canary', 'engine', engineId);
    const last = await silentEngine(engineId);

    const store = canary.app.get(Messaging).eventStore;
    const append = store.append.bind(store);
    let raced = false;
    const spy = jest.spyOn(store, 'append').mockImplementation(async (...args) => {
      const [to, envelopes] = args;
      if (!raced && to === subject && envelopes.some((e) => e.type === 'canary.EngineWentStale')) {
        raced = true;
        await freshHeartbeat(engineId, last);
      }
      return append(...args);
    });
    try {
      await monitor.sweep();
    } finally {
      spy.mockRestore();
    }
    expect(raced).toBe(true);

    // Back now, not at its next heartbeat.
    await waitFor(() => health(engineId) === 'ALIVE', { what: `${engineId} restored` });
    const types = (await canaryEvents(client, ns, 'engine', engineId)).map((e) => e.type);
    expect(types.slice(types.indexOf('canary.EngineWentStale'))).toEqual([
      'canary.EngineWentStale',
      'canary.AlertRaised',
      'canary.EnginePauseRequested',
      'canary.EngineHeartbeatRestored',
    ]);
  });

  it('should not judge an engine silent whose heartbeat came while the sweep waited for the engine', async () => {
    const engineId = 'race-lock';
    const last = await silentEngine(engineId);

    // Another command holds the engine: the sweep waits its turn, and the heartbeat comes meanwhile.
    const commands = canary.app.get(CanaryCommands);
    let release!: () => void;
    const released = new Promise<null>((resolve) => (release = () => resolve(null)));
    let holding = false;
    const holder = commands.engine(
      engineId,
      {
        prepare: () => {
          holding = true;
          return released;
        },
      },
      CANARY_ACTOR,
    );
    await waitFor(() => holding, { what: 'the engine held' });
    const sweep = monitor.sweep();
    await freshHeartbeat(engineId, last);
    release();
    await Promise.all([holder, sweep]);

    await waitFor(() => health(engineId) === 'ALIVE', { what: `${engineId} alive` });
    const types = (await canaryEvents(client, ns, 'engine', engineId)).map((e) => e.type);
    expect(types).not.toContain('canary.EngineWentStale');
  });
});
