import type { Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, waitFor, type TestNamespace } from '@bifrost/testing';
import {
  connectClient,
  controlledServer,
  httpProbe,
  removeProbe,
  startCanary,
  upsertProbe,
  type ControlledServer,
} from '../canary.fixtures';
import { CanaryCommands } from '../commands/canary-commands.service';

jest.setTimeout(60_000);

/** A day: the longest interval a probe may have, and no other timer of the process is that long. */
const DAY_MS = 86_400_000;

describe('probe scheduler: a loop stopped while its check is being recorded', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let target: ControlledServer;
  let canary: RunningService;
  let closed = false;

  beforeAll(async () => {
    ns = await createTestNamespace('canarysched');
    client = await connectClient(ns);
    target = await controlledServer();
    canary = await startCanary(ns);
  });
  afterAll(async () => {
    if (!closed) await canary.close();
    await target.close();
    await client.drain();
    await ns.cleanup();
  });
  afterEach(() => jest.restoreAllMocks());

  /**
   * Holds the recording of the first check of `probeName` until released: the probe's loop waits
   * in `record` meanwhile. `recorded` settles once the held recording has run.
   */
  const holdFirstRecord = (probeName: string) => {
    const commands = canary.app.get(CanaryCommands);
    const probe = commands.probe.bind(commands);
    const held: { recorded?: ReturnType<CanaryCommands['probe']>; release: () => void } = {
      release: () => undefined,
    };
    const released = new Promise<void>((resolve) => (held.release = resolve));
    jest.spyOn(commands, 'probe').mockImplementation((name, command, actor) => {
      if (name !== probeName || command.type !== 'RecordCheck' || held.recorded)
        return probe(name, command, actor);
      held.recorded = released.then(() => probe(name, command, actor));
      return held.recorded;
    });
    return held;
  };

  /** Releases the recording, then lets the loop run on to its next wait: the timers it armed. */
  const longTimersAfter = async (held: ReturnType<typeof holdFirstRecord>) => {
    const timers = jest.spyOn(global, 'setTimeout');
    held.release();
    await held.recorded?.catch(() => undefined);
    // The loop goes on from `record` in microtasks, all run before this immediate.
    await new Promise((resolve) => setImmediate(resolve));
    return timers.mock.calls.map(([, ms]) => ms ?? 0).filter((ms) => ms > DAY_MS / 2);
  };

  it('should end the loop of a removed probe at once, not wait out its interval first', async () => {
    const held = holdFirstRecord('daily');
    await upsertProbe(client, httpProbe('daily', target.url, { intervalMs: DAY_MS, timeoutMs: 1000 }));
    await waitFor(() => held.recorded !== undefined, { what: 'the first check being recorded' });

    await removeProbe(client, 'daily');
    // Its status series goes when the scheduler has stopped its loop.
    await waitFor(
      async () =>
        !(await (await fetch(`${canary.url}/metrics`)).text()).includes(
          'bifrost_canary_probe_status{probe="daily"',
        ),
      { what: 'the loop of the removed probe stopped' },
    );

    expect(await longTimersAfter(held)).toEqual([]);
  });

  // Last: it stops the canary.
  it('should leave no timer of a probe armed after shutdown', async () => {
    const held = holdFirstRecord('nightly');
    await upsertProbe(client, httpProbe('nightly', target.url, { intervalMs: DAY_MS, timeoutMs: 1000 }));
    await waitFor(() => held.recorded !== undefined, { what: 'the first check being recorded' });

    await canary.close();
    closed = true;

    expect(await longTimersAfter(held)).toEqual([]);
  });
});
