// npm run bench:projector [-- count] — projector events/s, lag at a steady rate and RSS, beside a
// same-run baseline of plain multi-row INSERTs through pg. Usage: … projector.bench.ts [count]
import { Client } from 'pg';
import { type Envelope } from '@bifrost/contracts';
import { Messaging } from '@bifrost/messaging';
import { createTestDatabase, createTestNamespace, waitFor, type TestNamespace } from '@bifrost/testing';
import { openProjectorDatabase } from '../apps/projector/src/persistence';
import { ProjectorMetrics } from '../apps/projector/src/projector/projector.metrics';
import { MIXED_CYCLE, mixedEvent, startProjector } from '../apps/projector/src/testing/projector.fixtures';
import { driverArgs, percentile, rssMb, runDriver } from './lib/load';

const COUNT = Number(process.argv[2] ?? process.env['BENCH_COUNT'] ?? 200_000);
const BATCH_SIZE = Number(process.env['PROJECTOR_BATCH_SIZE'] ?? 1000);
const STEADY_RATE = 2_000;
const STEADY_SECONDS = Number(process.env['BENCH_STEADY_SECONDS'] ?? 20);
const TARGETS = { perSecond: 10_000, ratio: 0.3, lagP99Ms: 500, rssGrowth: 0.1 };

interface DriverArgs {
  mode: 'fill' | 'steady';
  natsUrl: string;
  namespace: string;
  count: number;
  rate: number;
}

/** One acknowledged publish: stream key, stream sequence, ack time (epoch ms, sub-ms). */
type Ack = [stream: 'events' | 'decisions', seq: number, ackedAt: number];

const now = () => performance.timeOrigin + performance.now();

/** The load driver (a separate process): publishes the mixed traffic, all at once or at a steady rate. */
async function drive(args: DriverArgs): Promise<void> {
  const client = await Messaging.connect({
    url: args.natsUrl,
    service: 'bench',
    instanceId: `driver-${process.pid}`,
    namespace: args.namespace,
  });
  const { naming } = client;
  const streamKey = (name: string) => (name === naming.streams.events.name ? 'events' : 'decisions');
  const started = now();
  if (args.mode === 'fill') {
    const window = 1_000;
    for (let i = 0; i < args.count; i += window) {
      const envelopes = Array.from({ length: Math.min(window, args.count - i) }, (_, k) =>
        mixedEvent(naming, i + k),
      );
      await Promise.all(envelopes.map((envelope) => client.publisher.publish(envelope)));
    }
    await client.drain();
    process.stdout.write(`${JSON.stringify({ published: args.count, seconds: (now() - started) / 1000 })}\n`);
    return;
  }
  // Open loop: every 10 ms publish what the rate owes by now, never waiting for earlier acks.
  const acks: Ack[] = [];
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  while (sent < args.count) {
    const due = Math.min(args.count, Math.floor(((now() - started) / 1000) * args.rate));
    for (; sent < due; sent += 1) {
      const envelope = mixedEvent(naming, 1_000_000_000 + sent);
      const publish = client.publisher.publish(envelope).then((ack) => {
        acks.push([streamKey(ack.stream), ack.seq, now()]);
        inFlight.delete(publish);
      });
      inFlight.add(publish);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Promise.all(inFlight);
  await client.drain();
  process.stdout.write(`${JSON.stringify(acks)}\n`);
}

/**
 * The baseline: the same rows (audit log plus the row-per-message and row-per-item read models) as
 * plain multi-row INSERT … VALUES through pg, 1 000 messages per transaction; no decoding, no
 * hashing, no upserts.
 */
async function baseline(url: string, ns: TestNamespace, count: number): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const zeros = '0'.repeat(64);
  const streamSeq = { events: 0, decisions: 0 };
  let seq = 0;
  let elapsed = 0;
  try {
    for (let i = 0; i < count; i += 1_000) {
      const envelopes = Array.from({ length: Math.min(1_000, count - i) }, (_, k) =>
        mixedEvent(ns.naming, i + k),
      );
      const tables = baselineRows(envelopes);
      const audit = envelopes.map((e) => {
        const stream = e.subject.startsWith('bifrost.dec.') ? 'decisions' : 'events';
        streamSeq[stream] += 1;
        seq += 1;
        return [seq, e.id, e.type, stream, streamSeq[stream], e.occurredAt, JSON.stringify(e), zeros, zeros];
      });
      const started = now();
      await client.query('BEGIN');
      await insertRows(
        client,
        'audit_log (seq, event_id, event_type, stream, stream_seq, occurred_at, envelope, prev_hash, hash)',
        audit,
      );
      for (const [table, rows] of tables) await insertRows(client, table, rows);
      await client.query('COMMIT');
      elapsed += now() - started;
    }
  } finally {
    await client.end();
  }
  return count / (elapsed / 1000);
}

/**
 * The read-model rows a message adds: one per verdict and outcome, one per reservation decision of a
 * `risk.ReservationsDecided` and one per ledger entry (what the projector inserts for them).
 */
function baselineRows(envelopes: readonly Envelope[]): Map<string, unknown[][]> {
  const tables = new Map<string, unknown[][]>();
  const add = (table: string, row: unknown[]) => tables.set(table, [...(tables.get(table) ?? []), row]);
  for (const e of envelopes) {
    const d = e.data as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const aggregate = e.subject.slice(e.subject.lastIndexOf('.') + 1);
    if (e.type === 'gate.VerdictRendered') {
      const v = d['verdict'];
      add(
        `gate_decisions (decision_id, event_id, decided_at, engine_id, strategy_id, action, risk_level, mode,
         size_multiplier, action_kind, action_hash, policy_revision, approval_id, request_id, latency_micros,
         verdict, request, reasons, stream_seq)`,
        [
          v.decisionId,
          e.id,
          v.decidedAt,
          v.engineId,
          v.strategyId,
          v.action,
          v.riskLevel,
          v.mode,
          v.sizeMultiplier,
          d['request'].action.kind,
          v.actionHash,
          v.policyRevision,
          null,
          null,
          d['latencyMicros'],
          JSON.stringify(v),
          JSON.stringify(d['request']),
          JSON.stringify(v.checks.filter((c: { outcome: string }) => c.outcome !== 'ALLOW')),
          0,
        ],
      );
    } else if (e.type === 'gate.OutcomeRecorded') {
      const [engineId, strategyId] = aggregate.split(':');
      add(
        'strategy_outcomes (event_id, outcome_id, engine_id, strategy_id, pnl_amount, pnl_currency, level, recorded_at)',
        [
          e.id,
          d['outcomeId'],
          engineId,
          strategyId,
          d['pnl'].amount,
          d['pnl'].currency,
          d['level'],
          d['recordedAt'],
        ],
      );
    } else if (e.type === 'risk.ReservationsDecided') {
      for (const { request, reply: r } of d['decisions'])
        add(
          'risk_reservation_decisions (event_id, reservation_id, engine_id, outcome, reason, day, decided_at, request, reply)',
          [
            e.id,
            r.reservationId,
            r.engineId,
            r.outcome,
            r.reason ?? null,
            r.day,
            r.decidedAt,
            JSON.stringify(request),
            JSON.stringify(r),
          ],
        );
    } else if (e.type === 'risk.LedgerEntriesRecorded') {
      for (const [position, entry] of (
        d['entries'] as { type: string; data: Record<string, string> }[]
      ).entries())
        add('risk_ledger_entries (event_id, position, day, entry_type, reservation_id, engine_id, data)', [
          e.id,
          position,
          d['day'],
          entry.type,
          entry.data['reservationId'],
          entry.data['engineId'],
          JSON.stringify(entry.data),
        ]);
    }
  }
  return tables;
}

async function insertRows(client: Client, table: string, rows: readonly unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const width = (rows[0] as unknown[]).length;
  const values = rows
    .map((_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`)
    .join(', ');
  await client.query(`INSERT INTO ${table} VALUES ${values}`, rows.flat());
}

/** RSS every 250 ms while `run` runs. */
async function sampled<T>(samples: number[], run: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => samples.push(rssMb()), 250);
  try {
    return await run();
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const ns = await createTestNamespace('benchproj');
  const baseDb = await createTestDatabase('bench_baseline');
  const db = await createTestDatabase('bench_projector');
  const client = await Messaging.connect({
    url: ns.natsUrl,
    service: 'bench',
    instanceId: 'main',
    namespace: ns.namespace,
  });
  const dataSource = await openProjectorDatabase(db.url);
  try {
    await (await openProjectorDatabase(baseDb.url)).destroy();
    process.stderr.write(`baseline: ${COUNT} messages as multi-row INSERTs …\n`);
    const baselinePerSecond = await baseline(baseDb.url, ns, COUNT);
    await baseDb.drop();

    process.stderr.write(`publishing ${COUNT} mixed messages …\n`);
    const fill = await runDriver<{ published: number; seconds: number }>(__filename, {
      mode: 'fill',
      natsUrl: ns.natsUrl,
      namespace: ns.namespace,
      count: COUNT,
      rate: 0,
    } satisfies DriverArgs);
    const ends = await streamEnds(client);

    const metrics = new ProjectorMetrics();
    const rss: number[] = [];
    const rssStart = rssMb();
    process.stderr.write(`projecting (batch size ${BATCH_SIZE}) …\n`);
    const started = now();
    const projector = startProjector(client, dataSource, { metrics, batchSize: BATCH_SIZE });
    await sampled(rss, () =>
      waitFor(() => reached(projector.applied, ends), {
        what: 'caught up',
        timeoutMs: 600_000,
        intervalMs: 5,
      }),
    );
    const catchUpSeconds = (now() - started) / 1000;
    const perSecond = COUNT / catchUpSeconds;
    const batches = await metrics.batchSize.get();
    const batchCount = batches.values.find(
      (v) => v.metricName === 'bifrost_projector_batch_size_count',
    )?.value;

    process.stderr.write(`steady ${STEADY_RATE}/s for ${STEADY_SECONDS} s …\n`);
    const commits: Record<'events' | 'decisions', [seq: number, at: number][]> = {
      events: [],
      decisions: [],
    };
    const sampleCommits = () => {
      for (const key of ['events', 'decisions'] as const) {
        const applied = projector.applied.get(ns.naming.streams[key].name) ?? 0;
        const list = commits[key];
        if (applied > (list.at(-1)?.[0] ?? 0)) list.push([applied, now()]);
      }
    };
    const poll = setInterval(sampleCommits, 1);
    const acks = await sampled(rss, () =>
      runDriver<Ack[]>(__filename, {
        mode: 'steady',
        natsUrl: ns.natsUrl,
        namespace: ns.namespace,
        count: STEADY_RATE * STEADY_SECONDS,
        rate: STEADY_RATE,
      } satisfies DriverArgs),
    );
    const steadyEnds = await streamEnds(client);
    await waitFor(() => reached(projector.applied, steadyEnds), { what: 'steady caught up', intervalMs: 5 });
    clearInterval(poll);
    sampleCommits();
    await projector.stop();

    const lags = acks
      .map(
        ([key, seq, ackedAt]) =>
          (commits[key].find(([applied]) => applied >= seq)?.[1] ?? Infinity) - ackedAt,
      )
      .map((lag) => Math.max(0, lag))
      .sort((a, b) => a - b);
    const lagP50 = percentile(lags, 0.5);
    const lagP99 = percentile(lags, 0.99);
    const half = Math.floor(rss.length / 2);
    const firstHalfMax = Math.max(...rss.slice(0, half));
    const secondHalfMax = Math.max(...rss.slice(half));
    const growth = (secondHalfMax - firstHalfMax) / firstHalfMax;
    const [audit] = await dataSource.query<{ n: string }[]>('SELECT count(*) AS n FROM audit_log');

    const ratio = perSecond / baselinePerSecond;
    const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
    const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
    const lines = [
      `projector benchmark: ${COUNT} mixed messages (a cycle of ${MIXED_CYCLE}: 11 verdicts, 1 risk.ReservationsDecided of 3 decisions, …), batch size ${BATCH_SIZE}, node ${process.version}`,
      `  published in ${fill.seconds.toFixed(1)} s (${(COUNT / fill.seconds).toFixed(0)}/s) by a separate process; ${batchCount} batches; ${audit?.n} audit rows`,
      row(['measure', 'figure', 'target', '']),
      row(['---', '---', '---', '---']),
      row(['baseline: multi-row INSERT via pg', `${baselinePerSecond.toFixed(0)} msg/s`, '', '']),
      row([
        'projector: applied (audit + read models)',
        `${perSecond.toFixed(0)} msg/s (${catchUpSeconds.toFixed(1)} s)`,
        `≥ ${TARGETS.perSecond}/s`,
        met(perSecond >= TARGETS.perSecond),
      ]),
      row([
        'projector / baseline',
        `${ratio.toFixed(2)}×`,
        `≥ ${TARGETS.ratio}×`,
        met(ratio >= TARGETS.ratio),
      ]),
      row([
        `lag at ${STEADY_RATE}/s (${acks.length} msgs) p50 / p99`,
        `${lagP50.toFixed(1)} / ${lagP99.toFixed(1)} ms`,
        `p99 < ${TARGETS.lagP99Ms} ms`,
        met(lagP99 < TARGETS.lagP99Ms),
      ]),
      row([
        'RSS: start, max 1st half, max 2nd half',
        `${rssStart} / ${firstHalfMax} / ${secondHalfMax} MB (${(growth * 100).toFixed(0)} %)`,
        `flat (< ${TARGETS.rssGrowth * 100} % growth)`,
        met(growth < TARGETS.rssGrowth),
      ]),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await dataSource.destroy();
    await client.drain();
    await db.drop();
    await baseDb.drop().catch(() => undefined);
    await ns.cleanup();
  }
}

async function streamEnds(client: Messaging): Promise<Map<string, number>> {
  const ends = new Map<string, number>();
  for (const key of ['events', 'decisions'] as const) {
    const name = client.naming.streams[key].name;
    ends.set(name, (await client.jsm.streams.info(name)).state.last_seq);
  }
  return ends;
}

function reached(applied: ReadonlyMap<string, number>, ends: ReadonlyMap<string, number>): boolean {
  return [...ends].every(([name, last]) => (applied.get(name) ?? 0) >= last);
}

const args = driverArgs<DriverArgs>();
(args ? drive(args) : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
