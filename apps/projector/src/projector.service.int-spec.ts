import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { type RunningService } from '@bifrost/service';
import { startTestService, waitFor } from '@bifrost/testing';
import { Client } from 'pg';
import { AuditPins } from './audit/audit-pins';
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
  const bed = serviceBed('projsvc');

  const ready = async () => {
    const reply = await fetch(`${bed.service?.url}/health/ready`);
    return { status: reply.status, body: (await reply.json()) as { checks: Record<string, unknown> } };
  };
  const metrics = async () => (await fetch(`${bed.service?.url}/metrics`)).text();

  describe('When another instance holds the writer lock, then the first batch is held up, then it commits', () => {
    it('should be not ready as a standby and while catching up, ready after, with lag (also per consumer), sequence and batch metrics', async () => {
      const fx = gateEvents(bed.h.ns.naming);
      await publishAll(bed.h.client, [
        fx.strategyRegistered('eng-1', 's-1'),
        fx.outcomeRecorded('eng-1', 's-1', 1500),
        fx.killSwitchEngaged(),
      ]);
      await publishAll(bed.h.client, [fx.verdict('eng-1', 's-1'), fx.verdict('eng-1', 's-1', 'BLOCK')]);
      await bed.db.query('SELECT pg_advisory_lock(hashtext($1))', [WRITER_LOCK]);

      bed.service = await startTestService(ProjectorConfig, projectorService, bed.h.ns, {
        DATABASE_URL: bed.h.database.url,
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
      await bed.db.query('BEGIN');
      await bed.db.query('LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE');
      await bed.db.query('SELECT pg_advisory_unlock(hashtext($1))', [WRITER_LOCK]);
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

      await bed.db.query('ROLLBACK');
      await waitFor(async () => (await ready()).status === 200, { what: 'the service to be ready' });
      expect((await ready()).body.checks['projector']).toEqual({ ok: true });

      // The service's own system.ServiceStarted is on the events stream too: 3 + 1 events.
      const ends = await streamEnds(bed.h.client);
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
      await bed.h.client.js.publish(fx.killSwitchEngaged().subject, new TextEncoder().encode('not json'));
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
      await bed.db.query('BEGIN');
      await bed.db.query('LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE');
      try {
        await publishAll(bed.h.client, [gateEvents(bed.h.ns.naming).killSwitchEngaged('eng-stuck')]);

        const first = await waitFor(async () => ((await lagOf()) > 0 ? lagOf() : undefined), {
          what: 'lag in seconds above 0',
        });
        await waitFor(async () => (await lagOf()) > first + 0.25, { what: 'the lag to grow' });
      } finally {
        await bed.db.query('ROLLBACK');
      }
      await waitFor(async () => (await lagOf()) === 0, { what: 'the lag back to 0 once committed' });
    });

    it('should drop its lag, position and consumer series when it loses the writer lock, and report them again as writer', async () => {
      const writing = await metrics();
      expect(
        metricValue(writing, 'bifrost_projector_last_applied_sequence', { stream: 'events' }),
      ).toBeGreaterThan(0);
      // Its lock connection dies, and the test takes the lock before the service can again.
      await bed.db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()`,
      );
      await bed.db.query('SELECT pg_advisory_lock(hashtext($1))', [WRITER_LOCK]);
      try {
        const standby = await waitFor(
          async () => {
            const current = await metrics();
            return metricValue(current, 'bifrost_projector_writer') === 0 && current;
          },
          { what: 'the service to stand by' },
        );
        for (const stream of ['events', 'decisions']) {
          expect(metricValue(standby, 'bifrost_projector_lag_messages', { stream })).toBeUndefined();
          expect(metricValue(standby, 'bifrost_projector_last_applied_sequence', { stream })).toBeUndefined();
        }
        for (const consumer of ['projector__events', 'projector__decisions']) {
          expect(metricValue(standby, 'bifrost_consumer_pending_messages', { consumer })).toBeUndefined();
          // Counters keep what they counted.
          expect(metricValue(standby, 'bifrost_consumer_parked_messages_total', { consumer })).toBeDefined();
        }
      } finally {
        await bed.db.query('SELECT pg_advisory_unlock(hashtext($1))', [WRITER_LOCK]);
      }
      const writer = await waitFor(
        async () => {
          const current = await metrics();
          return (
            metricValue(current, 'bifrost_projector_lag_messages', { stream: 'events' }) === 0 && current
          );
        },
        { what: 'the service to write again' },
      );
      expect(metricValue(writer, 'bifrost_projector_writer')).toBe(1);
      expect(
        metricValue(writer, 'bifrost_consumer_pending_messages', { consumer: 'projector__events' }),
      ).toBe(0);
    });
  });
});

describe('projector service: audit log verification', () => {
  const bed = serviceBed('projverify');

  const latest = async (intact: boolean): Promise<VerificationRow | undefined> =>
    (await verifications(bed.db)).filter((row) => row.intact === intact).at(-1);

  it('should report the log intact once the writer has caught up, then where a row was altered, as events and in the read model', async () => {
    const fx = gateEvents(bed.h.ns.naming);
    await publishAll(bed.h.client, [fx.strategyRegistered('eng-1', 's-1'), fx.killSwitchEngaged()]);
    bed.service = await startTestService(ProjectorConfig, projectorService, bed.h.ns, {
      DATABASE_URL: bed.h.database.url,
      PROJECTOR_LOCK_POLL_MS: '50',
      PROJECTOR_AUDIT_VERIFY_INTERVAL_MS: '200',
    });

    const intact = await waitFor(() => latest(true), { what: 'an intact verification in the read model' });
    const rows = Number(intact.rows_verified);
    expect(rows).toBeGreaterThanOrEqual(2);
    expect(Number(intact.through_seq)).toBe(rows);
    const [head] = (await bed.db.query<{ hash: string }>(`SELECT hash FROM audit_log WHERE seq = $1`, [rows]))
      .rows;
    expect(intact).toMatchObject({ head_hash: head?.hash, break_seq: null, break_reason: null });

    // Rewrites the second row's envelope behind the triggers' back: its hash no longer matches.
    await bed.db.query('ALTER TABLE audit_log DISABLE TRIGGER ALL');
    await bed.db.query(`UPDATE audit_log SET envelope = envelope || '{"source":"forged"}' WHERE seq = 2`);
    await bed.db.query('ALTER TABLE audit_log ENABLE TRIGGER ALL');

    const broken = await waitFor(() => latest(false), { what: 'a broken verification in the read model' });
    expect(broken).toMatchObject({
      rows_verified: '1',
      through_seq: '1',
      head_hash: null,
      break_seq: '2',
      break_reason: 'HASH_MISMATCH',
    });
    // Each report is an event of its own, audited like any bed.db.
    const { rows: audited } = await bed.db.query<{ envelope: { source: string; data: { intact: boolean } } }>(
      `SELECT envelope FROM audit_log WHERE event_type = 'system.AuditChainVerified' ORDER BY seq`,
    );
    expect(audited.map((r) => r.envelope.data.intact)).toContain(false);
    expect(audited.every((r) => r.envelope.source === 'projector')).toBe(true);
    const text = await (await fetch(`${bed.service.url}/metrics`)).text();
    expect(
      metricValue(text, 'bifrost_audit_verifications_total', { result: 'intact' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(text, 'bifrost_audit_verifications_total', { result: 'broken' }),
    ).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'bifrost_audit_verifications_total', { result: 'error' })).toBe(0);
  });
});

describe('projector service: audit log verification against the newest row it stored', () => {
  const bed = serviceBed('projtrunc');

  it('should report the log TRUNCATED, then REWRITTEN, once its newest rows were deleted behind the writer, which a valid chain alone hides', async () => {
    const fx = gateEvents(bed.h.ns.naming);
    await publishAll(bed.h.client, [
      fx.strategyRegistered('eng-1', 's-1'),
      fx.strategyRegistered('eng-1', 's-2'),
      fx.killSwitchEngaged(),
    ]);
    bed.service = await startTestService(ProjectorConfig, projectorService, bed.h.ns, {
      DATABASE_URL: bed.h.database.url,
      PROJECTOR_LOCK_POLL_MS: '50',
      PROJECTOR_AUDIT_VERIFY_INTERVAL_MS: '200',
    });
    // Three events and at least one report of its own stored, verified intact.
    await waitFor(
      async () => (await verifications(bed.db)).some((row) => row.intact && Number(row.through_seq) >= 4),
      { what: 'an intact verification of 4 rows or more' },
    );

    // Behind the triggers' back, under a lock that waits for the writer's transaction in flight:
    // the newest row then is the one the writer stored last.
    await bed.db.query('BEGIN');
    await bed.db.query('ALTER TABLE audit_log DISABLE TRIGGER ALL');
    const { rows } = await bed.db.query<{ head: string }>('SELECT max(seq) AS head FROM audit_log');
    const head = Number(rows[0]?.head);
    await bed.db.query('DELETE FROM audit_log WHERE seq > 1');
    await bed.db.query('ALTER TABLE audit_log ENABLE TRIGGER ALL');
    await bed.db.query('COMMIT');
    expect(head).toBeGreaterThanOrEqual(4);
    // Runs that start from now on read the log without those rows.
    const since = (await bed.db.query<{ at: Date }>('SELECT now() AS at')).rows[0]?.at as Date;

    const after = async () => (await verifications(bed.db)).filter((row) => row.started_at > since);
    // What is left, and the reports linked onto it, are a valid chain: only the pinned row tells.
    const [truncated] = await waitFor(
      async () => {
        const broken = (await after()).filter((row) => !row.intact);
        return broken.length > 0 ? broken : undefined;
      },
      { what: 'a broken verification after the deletion' },
    );
    expect(truncated).toMatchObject({ break_reason: 'TRUNCATED', head_hash: null });
    expect(Number(truncated?.break_seq)).toBe(Number(truncated?.through_seq) + 1);
    expect(Number(truncated?.break_seq)).toBeLessThan(head);

    // The reports refill the seqs the deletion emptied: the row now at the pinned seq is another.
    const rewritten = await waitFor(
      async () => (await after()).find((row) => row.break_reason === 'REWRITTEN'),
      { what: 'a REWRITTEN verification', timeoutMs: 20_000 },
    );
    expect(rewritten).toMatchObject({ intact: false, break_seq: String(head) });
    expect(Number(rewritten.through_seq)).toBe(head - 1);
    expect((await after()).filter((row) => row.intact)).toEqual([]);
  }, 40_000);
});

describe('projector service: the pinned entry outlives the process, until an operator accepts the log', () => {
  const bed = serviceBed('projpin');
  const start = async () => {
    bed.service = await startTestService(ProjectorConfig, projectorService, bed.h.ns, {
      DATABASE_URL: bed.h.database.url,
      PROJECTOR_LOCK_POLL_MS: '50',
      PROJECTOR_AUDIT_VERIFY_INTERVAL_MS: '200',
    });
  };
  const now = async () => (await bed.db.query<{ at: Date }>('SELECT now() AS at')).rows[0]?.at as Date;
  const reportsSince = async (since: Date) =>
    (await verifications(bed.db)).filter((row) => row.started_at > since);
  const accept = (...args: string[]) =>
    cli(
      'accept',
      '--database-url',
      bed.h.database.url,
      '--nats-url',
      bed.h.ns.natsUrl,
      '--namespace',
      bed.h.ns.namespace,
      ...args,
    );

  it('should report the log TRUNCATED after a restart when its newest rows were deleted while no projector ran, and intact again once accepted with a reason, which is recorded', async () => {
    const fx = gateEvents(bed.h.ns.naming);
    await publishAll(bed.h.client, [
      fx.strategyRegistered('eng-1', 's-1'),
      fx.strategyRegistered('eng-1', 's-2'),
      fx.killSwitchEngaged(),
    ]);
    await start();
    await waitFor(
      async () => (await verifications(bed.db)).some((row) => row.intact && Number(row.through_seq) >= 4),
      { what: 'an intact verification of 4 rows or more' },
    );
    await bed.service?.close();
    bed.service = undefined;
    const pins = new AuditPins(bed.h.client);
    const { rows: heads } = await bed.db.query<{ seq: string; hash: string }>(
      'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
    // The writer stored the newest row of its last commit before it stopped.
    expect((await pins.load()).entry).toEqual({ seq: Number(heads[0]?.seq), hash: heads[0]?.hash });

    // While no projector runs: what is left is a valid chain, which alone would verify.
    await bed.db.query('ALTER TABLE audit_log DISABLE TRIGGER ALL');
    await bed.db.query('DELETE FROM audit_log WHERE seq > 2');
    await bed.db.query('ALTER TABLE audit_log ENABLE TRIGGER ALL');
    const restarted = await now();
    await start();
    const broken = await waitFor(async () => (await reportsSince(restarted)).find((row) => !row.intact), {
      what: 'a broken verification after the restart',
    });
    expect(['TRUNCATED', 'REWRITTEN']).toContain(broken.break_reason);
    expect((await reportsSince(restarted)).filter((row) => row.intact)).toEqual([]);

    // Refused without a reason; then accepted, recorded, and verified against from then on.
    expect(await accept('--operator', 'op-1')).toMatchObject({ code: 2 });
    const accepted = await accept('--reason', 'restored from the backup of 06:00', '--operator', 'op-1');
    expect(accepted).toMatchObject({ code: 0 });
    expect(accepted.stdout).toMatch(
      /^audit log accepted: \d+ rows verified, seq \d+, hash [0-9a-f]{64} \(was seq/,
    );
    const afterAccept = await now();
    await waitFor(async () => (await reportsSince(afterAccept)).some((row) => row.intact), {
      what: 'an intact verification after the acceptance',
    });
    const { rows: acceptances } = await bed.db.query<{
      reason: string;
      actor_id: string;
      previous_seq: string;
      previous_hash: string;
    }>('SELECT * FROM audit_acceptances');
    expect(acceptances).toEqual([
      expect.objectContaining({
        reason: 'restored from the backup of 06:00',
        actor_id: 'op-1',
        previous_seq: heads[0]?.seq,
        previous_hash: heads[0]?.hash,
      }),
    ]);
    const { rows: audited } = await bed.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM audit_log WHERE event_type = 'system.AuditLogAccepted'`,
    );
    expect(audited[0]?.n).toBe('1');
    // And the writer goes on advancing the stored entry from the accepted one.
    const acceptedPin = await pins.load();
    await publishAll(bed.h.client, [fx.strategyRegistered('eng-1', 's-3')]);
    await waitFor(async () => ((await pins.load()).entry?.seq ?? 0) > (acceptedPin.entry?.seq ?? 0), {
      what: 'the writer to advance the stored entry past the accepted one',
    });
  }, 60_000);

  it('should accept nothing from a log that does not verify as a chain in itself', async () => {
    // No writer moves the stored entry meanwhile.
    await bed.service?.close();
    bed.service = undefined;
    const pins = new AuditPins(bed.h.client);
    const before = await pins.load();
    const { rows } = await bed.db.query<{ envelope: object }>('SELECT envelope FROM audit_log WHERE seq = 2');
    await bed.db.query('ALTER TABLE audit_log DISABLE TRIGGER ALL');
    try {
      await bed.db.query(`UPDATE audit_log SET envelope = envelope || '{"source":"forged"}' WHERE seq = 2`);
      const refused = await accept('--reason', 'anything', '--operator', 'op-1');
      expect(refused).toMatchObject({ code: 1 });
      expect(refused.stdout).toContain('not accepted');
      expect((await pins.load()).revision).toBe(before.revision);
    } finally {
      await bed.db.query('UPDATE audit_log SET envelope = $1 WHERE seq = 2', [rows[0]?.envelope]);
      await bed.db.query('ALTER TABLE audit_log ENABLE TRIGGER ALL');
    }
  }, 30_000);
});

const ROOT = resolve(__dirname, '../../..');

/** Runs `bifrost-audit` as an operator does, from anywhere. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      'node',
      [resolve(ROOT, 'scripts/bifrost-audit.cjs'), ...args],
      { cwd: tmpdir() },
      (error, stdout, stderr) => done({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

interface ServiceBed {
  h: ProjectorTestBed;
  /** A Postgres client of the test bed's database. */
  db: Client;
  /** The projector service, once a test starts it. */
  service?: RunningService;
}

/** A projector test bed for the describe it is called in; torn down with the service after it. */
function serviceBed(name: string): ServiceBed {
  const bed = {} as ServiceBed;
  beforeAll(async () => {
    bed.h = await startProjectorTestBed(name);
    bed.db = new Client({ connectionString: bed.h.database.url });
    await bed.db.connect();
  });
  afterAll(async () => {
    await bed.service?.close();
    await bed.db?.end();
    await bed.h?.stop();
  });
  return bed;
}

interface VerificationRow {
  intact: boolean;
  rows_verified: string;
  through_seq: string;
  head_hash: string | null;
  break_seq: string | null;
  break_reason: string | null;
  started_at: Date;
}

/** The verification runs in the read model, in the order they started. */
async function verifications(client: Client): Promise<VerificationRow[]> {
  return (await client.query<VerificationRow>('SELECT * FROM audit_verifications ORDER BY started_at')).rows;
}

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
