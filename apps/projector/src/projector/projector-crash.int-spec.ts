import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort, waitFor } from '@bifrost/testing';
import { verifyAuditLog } from '@bifrost/persistence';
import { openProjectorDatabase } from '../persistence';
import {
  caughtUp,
  gateEvents,
  publishAll,
  startProjector,
  startProjectorHarness,
  storedCheckpoints,
  streamEnds,
  type ProjectorHarness,
} from '../testing/projector.fixtures';

const ROOT = resolve(__dirname, '../../../..');

describe('projector under failure', () => {
  let h: ProjectorHarness;
  let fx: ReturnType<typeof gateEvents>;

  beforeEach(async () => {
    h = await startProjectorHarness('crash');
    fx = gateEvents(h.ns.naming);
  });

  afterEach(() => h?.stop());

  describe('Given a projector process SIGKILLed five times while events flow', () => {
    it('should hold every message exactly once, without gaps, in a chain that verifies', async () => {
      const traffic = startTraffic();
      for (let round = 1; round <= 5; round += 1) {
        const before = await storedCheckpoints(h.dataSource, h.ns.naming);
        const child = await spawnProjector();
        // Killed once it is committing batches of this round's traffic (mid-batch more often than
        // not) and has recorded its start, the last thing a process does when starting.
        await waitFor(
          async () =>
            (await storedCheckpoints(h.dataSource, h.ns.naming)).events > before.events + 20 &&
            (await projectorStarts()) === round,
          {
            timeoutMs: 40_000,
            what: `round ${round} applying`,
          },
        );
        await kill(child, 'SIGKILL');
      }
      const published = await traffic.stop();
      const last = await spawnProjector();
      try {
        await waitFor(async () => (await projectorStarts()) === 6 && caughtUp(h.client, h.dataSource), {
          timeoutMs: 60_000,
          what: 'final projector started and caught up',
        });
      } finally {
        await kill(last, 'SIGTERM');
      }

      const ends = await streamEnds(h.client);
      const [log] = await h.dataSource.query<
        { rows: number; distinct_ids: number; first: number; last: number }[]
      >(
        `SELECT count(*) AS rows, count(DISTINCT event_id) AS distinct_ids, min(seq) AS first, max(seq) AS last FROM audit_log`,
      );
      // Each of the six processes also recorded its own start on the events stream.
      expect(await h.count('service_starts')).toBe(6);
      expect(published.outcomes + published.verdicts + 6).toBe(ends.events + ends.decisions);
      expect(log).toEqual({
        rows: ends.events + ends.decisions,
        distinct_ids: ends.events + ends.decisions,
        first: 1,
        last: ends.events + ends.decisions,
      });
      expect(await h.count('gate_decisions')).toBe(published.verdicts);
      expect(await h.count('strategy_outcomes')).toBe(published.outcomes);
      const [strategy] = await h.dataSource.query<{ outcomes: number }[]>(`SELECT outcomes FROM strategies`);
      expect(strategy?.outcomes).toBe(published.outcomes);
      await expect(verifyAuditLog(h.dataSource)).resolves.toMatchObject({
        ok: true,
        count: ends.events + ends.decisions,
      });
    }, 180_000);
  });

  describe('Given two projector instances', () => {
    it('should let only one write, and the standby take over gaplessly when the writer dies', async () => {
      const second = await openProjectorDatabase(h.database.url);
      const first = startProjector(h.client, h.dataSource);
      await waitFor(() => first.isWriter, { what: 'first is the writer' });
      const standby = startProjector(h.client, second);
      try {
        await publishAll(h.client, outcomes(30));
        await waitFor(() => caughtUp(h.client, h.dataSource), { what: 'first applied' });
        expect(standby.isWriter).toBe(false);
        expect(standby.readiness()).toEqual({ ok: false, detail: 'standby: waiting for the writer lock' });

        // The writer's connection dies (lock and transaction connection are one), then the process stops.
        await h.dataSource.query('SELECT pg_terminate_backend($1)', [first.writerPid]);
        await first.stop();
        await waitFor(() => standby.isWriter, { what: 'standby takes over' });
        await publishAll(h.client, outcomes(30));
        await waitFor(() => caughtUp(h.client, second), { what: 'standby applied' });

        const seqs = await second.query<{ seq: number }[]>(`SELECT seq FROM audit_log ORDER BY seq`);
        expect(seqs.map((r) => r.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
        expect(await h.count('strategy_outcomes')).toBe(60);
        await waitFor(() => standby.readiness().ok, { what: 'standby ready' });
        await expect(verifyAuditLog(second)).resolves.toMatchObject({ ok: true, count: 60 });
      } finally {
        await standby.stop();
        await first.stop();
        await second.destroy();
      }
    });
  });

  /** How many projector processes have recorded their start. */
  const projectorStarts = async () =>
    (await h.client.eventStore.read(h.ns.naming.eventSubject('system', 'service', 'projector'))).events
      .length;

  const outcomes = (n: number) =>
    Array.from({ length: n }, (_, i) => fx.outcomeRecorded('eng-1', 's-1', i - 10));

  /** Publishes outcome events and decision records until stopped; returns how many of each. */
  function startTraffic() {
    let running = true;
    const published = { outcomes: 0, verdicts: 0 };
    const done = (async () => {
      while (running) {
        const batch = Array.from({ length: 40 }, (_, i) =>
          i % 2 === 0
            ? fx.outcomeRecorded('eng-1', 's-1', i)
            : fx.verdict('eng-1', 's-1', i % 3 === 0 ? 'BLOCK' : 'ALLOW'),
        );
        await publishAll(h.client, batch);
        published.outcomes += 20;
        published.verdicts += 20;
        // Pacing, not waiting: about 2 000 messages/s, a steady flow the final catch-up can finish quickly.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await done;
        return published;
      },
    };
  }

  async function spawnProjector(): Promise<ChildProcess> {
    const child = spawn('node', ['-r', '@swc-node/register', 'apps/projector/src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        NATS_URL: h.ns.natsUrl,
        DATABASE_URL: h.database.url,
        BIFROST_NAMESPACE: h.ns.namespace,
        PORT: String(await freePort()),
        LOG_LEVEL: 'error',
        PROJECTOR_LOCK_POLL_MS: '50',
        PROJECTOR_BATCH_SIZE: '100',
        // Its audit log reports would be events of their own; this test counts the ones it sent.
        PROJECTOR_AUDIT_VERIFY_INTERVAL_MS: '0',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return child;
  }

  function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    return new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill(signal);
    });
  }
});
