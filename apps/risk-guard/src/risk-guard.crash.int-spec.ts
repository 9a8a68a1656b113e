import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import {
  createTestNamespace,
  freePort,
  waitFor,
  type TestNamespace,
  withinOneUtcDay,
} from '@bifrost/testing';
import {
  connectClient,
  decisionRecords,
  deferred,
  ledger,
  reserve,
  startRiskGuard,
  untilAnswered,
  upsertPolicy,
} from './risk-guard.fixtures';

const ROOT = resolve(__dirname, '../../..');
// Long enough that a loaded machine's stall (~650 ms seen in CI) does not move the lease by itself.
const LEASE_MS = 3_000;

jest.setTimeout(60_000);

describe('risk-guard when the leader crashes', () => {
  withinOneUtcDay();
  let ns: TestNamespace;
  let client: Messaging;
  let leader: ChildProcess | undefined;
  let standby: RunningService | undefined;

  beforeEach(async () => {
    ns = await createTestNamespace('riskx');
    client = await connectClient(ns);
  });
  afterEach(async () => {
    if (leader) await kill(leader, 'SIGKILL');
    await standby?.close();
    await client.drain();
    await ns.cleanup();
  });

  describe('Given a leader process that is SIGKILLed without releasing its lease', () => {
    it('should let the standby take over once the lease runs out, keeping every reservation once', async () => {
      const leaderPort = await freePort();
      leader = spawnRiskGuard(leaderPort);
      await waitFor(async () => (await deskDetail(`http://127.0.0.1:${leaderPort}`)) === 'leader', {
        timeoutMs: 20_000,
        what: 'the spawned process leads',
      });
      standby = await startRiskGuard(ns, { RISK_SEED_POLICIES: 'false', RISK_LEASE_MS: String(LEASE_MS) });
      expect(await deskDetail(standby.url)).toBe('standby');

      await upsertPolicy(client, 'GLOBAL', 100_000, 100_000, 1_000);
      await upsertPolicy(client, 'eng', 100_000, 100_000, 1_000);
      const before = await Promise.all(
        [1, 2, 3, 4, 5].map((i) => untilAnswered(() => reserve(client, 'eng', `k-${i}`, 100))),
      );
      expect(before.every((r) => r.outcome === 'GRANTED')).toBe(true);

      await kill(leader, 'SIGKILL');
      leader = undefined;
      // The dead holder's lease is still in the bucket: only its expiry can free it.
      const kv = await new Kvm(client.js).open(ns.naming.snapshotBucket);
      const lease = (await kv.get('risk-guard.leader'))?.json<{ holder: string; expiresAt: number }>();
      expect(lease?.holder).not.toBe(standby.info.instanceId);
      expect(lease?.expiresAt).toBeGreaterThan(0);

      const after = await untilAnswered(() => reserve(client, 'eng', 'k-6', 100));
      const retried = await untilAnswered(() => reserve(client, 'eng', 'k-3', 100));

      expect(after.outcome).toBe('GRANTED');
      expect(await deskDetail(standby.url)).toBe('leader');
      expect(retried).toMatchObject({ replayed: true, reservationId: before[2]?.reservationId });
      expect((await ledger(client)).usage['eng']).toMatchObject({ reservedLoss: 600, actions: 6 });
    });
  });

  describe('Given a lease held by an instance that stops renewing it', () => {
    it('should be ready as a standby while the lease runs, not ready once it ran out, and ready again as the leader', async () => {
      const kv = await new Kvm(client.js).create(ns.naming.snapshotBucket, { history: 1 });
      // Margins for a loaded machine: the standby starts within 6 s, and is leaderless from then
      // until its next poll of the lease, 15 s after its start.
      const runsOutAt = Date.now() + 6_000;
      await kv.put('risk-guard.leader', JSON.stringify({ holder: 'gone', expiresAt: runsOutAt }));
      // Polls the lease every 15 s: the first poll sees it held, the next comes after it ran out.
      standby = await startRiskGuard(ns, { RISK_SEED_POLICIES: 'false', RISK_LEASE_MS: '45000' });
      const asStandby = await readiness(standby.url);

      await new Promise((resolve) => setTimeout(resolve, runsOutAt + 100 - Date.now()));
      const leaderless = await readiness(standby.url);
      const refused = await reserve(client, 'eng', 'k-1', 100).catch(
        (error: { code?: string }) => error.code,
      );
      await waitFor(async () => (await readiness(standby?.url as string)).detail === 'leader', {
        timeoutMs: 25_000,
        what: 'the standby leads',
      });

      expect(asStandby).toEqual({ status: 200, detail: 'standby' });
      expect(leaderless).toEqual({ status: 503, detail: 'no leader: no instance holds the lease' });
      expect(refused).toBe('RISK.NO_LEADER');
      expect(await readiness(standby.url)).toEqual({ status: 200, detail: 'leader' });
    });
  });

  describe('Given a leader shut down while a decision record is being stored', () => {
    it('should answer the reserve once its record is stored, before it goes', async () => {
      standby = await startRiskGuard(ns, { RISK_SEED_POLICIES: 'false' });
      await upsertPolicy(client, 'GLOBAL', 100_000, 100_000, 1_000);
      await upsertPolicy(client, 'eng', 100_000, 100_000, 1_000);
      const messaging = standby.app.get(Messaging);
      const publish = messaging.publisher.publish.bind(messaging.publisher);
      const stored = deferred();
      const spy = jest.spyOn(messaging.publisher, 'publish').mockImplementation(async (envelope, options) => {
        if (envelope.subject === ns.naming.decisionSubject('risk', 'eng')) await stored.promise;
        return publish(envelope, options);
      });
      const reply = client.rpc.request('bifrost.rpc.risk.reserve', {
        engineId: 'eng',
        idempotencyKey: 'k-shutdown',
        maxLoss: { amount: 100, currency: 'USD' },
        exposure: { amount: 0, currency: 'USD' },
      });
      await waitFor(() => spy.mock.calls.some(([e]) => e.type === 'risk.ReservationsDecided'), {
        what: 'the record being stored',
      });
      const closing = standby.close();
      standby = undefined;
      setTimeout(stored.resolve, 200);
      await closing;

      expect(await reply).toMatchObject({ ok: true, data: { outcome: 'GRANTED', replayed: false } });
      expect((await decisionRecords(client, ns, 'eng')).map((r) => r.request.idempotencyKey)).toEqual([
        'k-shutdown',
      ]);
    });
  });

  function spawnRiskGuard(port: number): ChildProcess {
    return spawn('node', ['-r', '@swc-node/register', 'apps/risk-guard/src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        NATS_URL: ns.natsUrl,
        BIFROST_NAMESPACE: ns.namespace,
        PORT: String(port),
        LOG_LEVEL: 'error',
        RISK_LEASE_MS: String(LEASE_MS),
        RISK_SEED_POLICIES: 'false',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
});

async function readiness(url: string): Promise<{ status: number; detail: string | undefined }> {
  const response = await fetch(`${url}/health/ready`);
  const body = (await response.json()) as { checks?: { 'risk-desk'?: { detail?: string } } };
  return { status: response.status, detail: body.checks?.['risk-desk']?.detail };
}

async function deskDetail(url: string): Promise<string | undefined> {
  const response = await fetch(`${url}/health/ready`).catch(() => undefined);
  const body = (await response?.json().catch(() => undefined)) as
    | { checks?: { 'risk-desk'?: { detail?: string } } }
    | undefined;
  return body?.checks?.['risk-desk']?.detail;
}

function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill(signal);
  });
}
