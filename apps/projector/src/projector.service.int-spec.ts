import { type RunningService } from '@bifrost/service';
import { startTestService, waitFor } from '@bifrost/testing';
import { Client } from 'pg';
import { WRITER_LOCK } from './projector/projector';
import { ProjectorConfig, projectorService } from './projector.service';
import {
  gateEvents,
  publishAll,
  startProjectorTestBed,
  streamEnds,
  type ProjectorTestBed,
} from './testing/projector.fixtures';

describe('projector service', () => {
  let h: ProjectorTestBed;
  let service: RunningService | undefined;
  let other: Client;

  beforeAll(async () => {
    h = await startProjectorTestBed('projsvc');
    other = new Client({ connectionString: h.database.url });
    await other.connect();
  });

  afterAll(async () => {
    await service?.close();
    await other?.end();
    await h?.stop();
  });

  const ready = async () => {
    const reply = await fetch(`${service?.url}/health/ready`);
    return { status: reply.status, body: (await reply.json()) as { checks: Record<string, unknown> } };
  };
  const metrics = async () => (await fetch(`${service?.url}/metrics`)).text();

  describe('When another instance holds the writer lock, then the first batch is held up, then it commits', () => {
    it('should be not ready as a standby and while catching up, ready after, with lag (also per consumer), sequence and batch metrics', async () => {
      const fx = gateEvents(h.ns.naming);
      await publishAll(h.client, [
        fx.strategyRegistered('eng-1', 's-1'),
        fx.outcomeRecorded('eng-1', 's-1', 1500),
        fx.killSwitchEngaged(),
      ]);
      await publishAll(h.client, [fx.verdict('eng-1', 's-1'), fx.verdict('eng-1', 's-1', 'BLOCK')]);
      await other.query('SELECT pg_advisory_lock(hashtext($1))', [WRITER_LOCK]);

      service = await startTestService(ProjectorConfig, projectorService, h.ns, {
        DATABASE_URL: h.database.url,
        PROJECTOR_LOCK_POLL_MS: '50',
        // Its reports would be events of their own; the counts below are of the test's messages.
        PROJECTOR_AUDIT_VERIFY_INTERVAL_MS: '0',
      });

      const standby = await ready();
      expect(standby.status).toBe(503);
      expect(standby.body.checks['projector']).toEqual({
        ok: false,
        detail: 'standby: waiting for the writer lock',
      });
      expect(metricValue(await metrics(), 'bifrost_projector_writer')).toBe(0);

      // Holds back the first batch's audit INSERT: the instance is the writer but not caught up yet.
      await other.query('BEGIN');
      await other.query('LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE');
      await other.query('SELECT pg_advisory_unlock(hashtext($1))', [WRITER_LOCK]);
      await waitFor(async () => metricValue(await metrics(), 'bifrost_projector_writer') === 1, {
        what: 'the service to become the writer',
      });
      const catchingUp = await ready();
      expect(catchingUp.status).toBe(503);
      expect(catchingUp.body.checks['projector']).toEqual({
        ok: false,
        detail: 'catching up with the streams',
      });
      // Its durable consumers report their lag as every service's do: nothing is applied yet.
      const behind = await metrics();
      expect(
        metricValue(behind, 'bifrost_consumer_pending_messages', { consumer: 'projector__events' }),
      ).toBe(4);
      expect(
        metricValue(behind, 'bifrost_consumer_pending_messages', { consumer: 'projector__decisions' }),
      ).toBe(2);
      expect(metricValue(behind, 'bifrost_projector_lag_messages', { stream: 'decisions' })).toBe(2);
      // In time: the age of the oldest message waiting, read at each scrape, so it grows while stuck.
      const lagged = metricValue(behind, 'bifrost_projector_lag_seconds', { stream: 'decisions' }) ?? 0;
      expect(lagged).toBeGreaterThan(0);
      await waitFor(
        async () =>
          (metricValue(await metrics(), 'bifrost_projector_lag_seconds', { stream: 'decisions' }) ?? 0) >
          lagged + 0.25,
        { what: 'the lag in seconds to grow while the batch is held up' },
      );

      await other.query('ROLLBACK');
      await waitFor(async () => (await ready()).status === 200, { what: 'the service to be ready' });
      expect((await ready()).body.checks['projector']).toEqual({ ok: true });

      // The service's own system.ServiceStarted is on the events stream too: 3 + 1 events.
      const ends = await streamEnds(h.client);
      expect(ends).toEqual({ events: 4, decisions: 2 });
      const text = await waitFor(
        async () => {
          const current = await metrics();
          return (
            metricValue(current, 'bifrost_projector_last_applied_sequence', { stream: 'events' }) === 4 &&
            current
          );
        },
        { what: 'the service start event applied' },
      );
      expect(metricValue(text, 'bifrost_projector_last_applied_sequence', { stream: 'decisions' })).toBe(2);
      expect(metricValue(text, 'bifrost_projector_lag_messages', { stream: 'events' })).toBe(0);
      expect(metricValue(text, 'bifrost_projector_lag_messages', { stream: 'decisions' })).toBe(0);
      expect(metricValue(text, 'bifrost_projector_lag_seconds', { stream: 'events' })).toBe(0);
      expect(metricValue(text, 'bifrost_projector_lag_seconds', { stream: 'decisions' })).toBe(0);
      expect(metricValue(text, 'bifrost_projector_messages_total', { outcome: 'recorded' })).toBe(6);
      expect(metricValue(text, 'bifrost_projector_messages_total', { outcome: 'parked' })).toBe(0);
      for (const consumer of ['projector__events', 'projector__decisions']) {
        expect(metricValue(text, 'bifrost_consumer_pending_messages', { consumer })).toBe(0);
        expect(metricValue(text, 'bifrost_consumer_parked_messages_total', { consumer })).toBe(0);
      }
      // Every series of a stream carries the same label value.
      expect(metricValue(text, 'bifrost_projector_blocked', { stream: 'events' })).toBe(0);
      expect(metricValue(text, 'bifrost_projector_blocked', { stream: 'decisions' })).toBe(0);
      const batches = metricValue(text, 'bifrost_projector_batch_size_count');
      expect(batches).toBeGreaterThanOrEqual(1);
      expect(batches).toBeLessThanOrEqual(6);
      expect(metricValue(text, 'bifrost_projector_batch_size_sum')).toBe(6);
      expect(metricValue(text, 'bifrost_projector_batch_latency_seconds_count')).toBe(batches);
      // The first batch waited for the table lock: it took longer than nothing and less than the test.
      const latency = metricValue(text, 'bifrost_projector_batch_latency_seconds_sum');
      expect(latency).toBeGreaterThan(0);
      expect(latency).toBeLessThan(30);

      // A message it parks counts for the consumer that delivered it.
      await h.client.js.publish(fx.killSwitchEngaged().subject, new TextEncoder().encode('not json'));
      const parked = await waitFor(
        async () => {
          const current = await metrics();
          const done =
            metricValue(current, 'bifrost_projector_messages_total', { outcome: 'parked' }) === 1 &&
            metricValue(current, 'bifrost_projector_last_applied_sequence', { stream: 'events' }) === 5;
          return done && current;
        },
        { what: 'the malformed message parked and its batch committed' },
      );
      expect(
        metricValue(parked, 'bifrost_consumer_parked_messages_total', { consumer: 'projector__events' }),
      ).toBe(1);
      expect(
        metricValue(parked, 'bifrost_consumer_parked_messages_total', { consumer: 'projector__decisions' }),
      ).toBe(0);
      expect(
        metricValue(parked, 'bifrost_consumer_pending_messages', { consumer: 'projector__events' }),
      ).toBe(0);
    });

    it('should show lag in seconds once a caught-up writer holds a new message it cannot commit', async () => {
      const lagOf = async () =>
        metricValue(await metrics(), 'bifrost_projector_lag_seconds', { stream: 'events' }) ?? -1;
      expect(await lagOf()).toBe(0);
      await other.query('BEGIN');
      await other.query('LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE');
      try {
        await publishAll(h.client, [gateEvents(h.ns.naming).killSwitchEngaged('eng-stuck')]);

        const first = await waitFor(async () => ((await lagOf()) > 0 ? lagOf() : undefined), {
          what: 'lag in seconds above 0',
        });
        await waitFor(async () => (await lagOf()) > first + 0.25, { what: 'the lag to grow' });
      } finally {
        await other.query('ROLLBACK');
      }
      await waitFor(async () => (await lagOf()) === 0, { what: 'the lag back to 0 once committed' });
    });
  });
});

describe('projector service: audit log verification', () => {
  let h: ProjectorTestBed;
  let service: RunningService | undefined;
  let admin: Client;

  beforeAll(async () => {
    h = await startProjectorTestBed('projverify');
    admin = new Client({ connectionString: h.database.url });
    await admin.connect();
  });

  afterAll(async () => {
    await service?.close();
    await admin?.end();
    await h?.stop();
  });

  interface VerificationRow {
    intact: boolean;
    rows_verified: string;
    through_seq: string;
    head_hash: string | null;
    break_seq: string | null;
    break_reason: string | null;
  }
  const latest = async (intact: boolean): Promise<VerificationRow | undefined> =>
    (
      await admin.query<VerificationRow>(
        `SELECT * FROM audit_verifications WHERE intact = $1 ORDER BY started_at DESC LIMIT 1`,
        [intact],
      )
    ).rows[0];

  it('should report the log intact once the writer has caught up, then where a row was altered, as events and in the read model', async () => {
    const fx = gateEvents(h.ns.naming);
    await publishAll(h.client, [fx.strategyRegistered('eng-1', 's-1'), fx.killSwitchEngaged()]);
    service = await startTestService(ProjectorConfig, projectorService, h.ns, {
      DATABASE_URL: h.database.url,
      PROJECTOR_LOCK_POLL_MS: '50',
      PROJECTOR_AUDIT_VERIFY_INTERVAL_MS: '200',
    });

    const intact = await waitFor(() => latest(true), { what: 'an intact verification in the read model' });
    const rows = Number(intact.rows_verified);
    expect(rows).toBeGreaterThanOrEqual(2);
    expect(Number(intact.through_seq)).toBe(rows);
    const [head] = (await admin.query<{ hash: string }>(`SELECT hash FROM audit_log WHERE seq = $1`, [rows]))
      .rows;
    expect(intact).toMatchObject({ head_hash: head?.hash, break_seq: null, break_reason: null });

    // Rewrites the second row's envelope behind the triggers' back: its hash no longer matches.
    await admin.query('ALTER TABLE audit_log DISABLE TRIGGER ALL');
    await admin.query(`UPDATE audit_log SET envelope = envelope || '{"source":"forged"}' WHERE seq = 2`);
    await admin.query('ALTER TABLE audit_log ENABLE TRIGGER ALL');

    const broken = await waitFor(() => latest(false), { what: 'a broken verification in the read model' });
    expect(broken).toMatchObject({
      rows_verified: '1',
      through_seq: '1',
      head_hash: null,
      break_seq: '2',
      break_reason: 'HASH_MISMATCH',
    });
    // Each report is an event of its own, audited like any other.
    const { rows: audited } = await admin.query<{ envelope: { source: string; data: { intact: boolean } } }>(
      `SELECT envelope FROM audit_log WHERE event_type = 'system.AuditChainVerified' ORDER BY seq`,
    );
    expect(audited.map((r) => r.envelope.data.intact)).toContain(false);
    expect(audited.every((r) => r.envelope.source === 'projector')).toBe(true);
    const text = await (await fetch(`${service.url}/metrics`)).text();
    expect(
      metricValue(text, 'bifrost_audit_verifications_total', { result: 'intact' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(text, 'bifrost_audit_verifications_total', { result: 'broken' }),
    ).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'bifrost_audit_verifications_total', { result: 'error' })).toBe(0);
  });
});

/** The value of one series in Prometheus text format; labels not given are not compared. */
function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const series = match[2] ?? '';
    if (Object.entries(labels).every(([key, value]) => series.includes(`${key}="${value}"`))) {
      return Number(match[3]);
    }
  }
  return undefined;
}
