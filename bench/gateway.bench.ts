// npm run bench:gateway — autocannon at 64 connections against the gateway's decisions query and
// engine check, beside a same-run plain Fastify route doing the same Postgres query / NATS request,
// measured in alternation with it (BENCH_ROUNDS gateway runs of BENCH_DURATION_MS each).
// Targets (issue 6): ≥ 0.7× the plain route, p99 < 50 ms. `npm run bench:gateway` runs this process with
// the gateway's deployed V8 flag (--max-semi-space-size=64, docs/operations.md), which the plain route
// in the same process shares.
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { Pool } from 'pg';
import { connect } from '@nats-io/transport-node';
import { loadConfig } from '@bifrost/config';
import { uuidv7 } from '@bifrost/messaging';
import { openProjectorDatabase } from '@bifrost/projector';
import { startService } from '@bifrost/service';
import { createTestDatabase, createTestNamespace, freePort } from '@bifrost/testing';
import {
  DURATION_MS,
  ROUNDS,
  alternate,
  driverArgs,
  formatAlternation,
  formatRow,
  runDriver,
  type LoadResult,
} from './lib/load';
import { GatewayConfig, gatewayService } from '../apps/api-gateway/src/gateway.service';
import { GateConfig, gateService } from '../apps/gate/src/gate.service';

const CONNECTIONS = 64;
const OWNER = 'bench-owner-key-of-at-least-32-characters';
const DECISIONS_SQL =
  'SELECT decision_id, decided_at, engine_id, strategy_id, action, risk_level, mode, size_multiplier, action_kind, action_hash, policy_revision, approval_id, request_id, latency_micros, reasons, stream_seq FROM gate_decisions ORDER BY decided_at DESC, decision_id DESC LIMIT $1';
const CHECK = { engineId: 'bench', strategyId: 's1', action: { kind: 'order.place', intent: 'open' } };

interface DriverArgs {
  name: string;
  options: autocannon.Options;
}

/** The load driver (a separate process, so autocannon never shares an event loop with a server). */
async function drive({ name, options }: DriverArgs): Promise<void> {
  const seconds = DURATION_MS / 1000;
  const result = await autocannon({ connections: CONNECTIONS, duration: seconds, ...options });
  const figures: LoadResult = {
    label: name,
    operations: result.requests.total,
    errors: result.non2xx + result.errors + result.timeouts,
    seconds,
    perSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

const load = (name: string, options: autocannon.Options) => () =>
  runDriver<LoadResult>(__filename, { name, options } satisfies DriverArgs);

async function main(): Promise<void> {
  const ns = await createTestNamespace('gwbench');
  const db = await createTestDatabase('gwbench');

  const env = { NATS_URL: ns.natsUrl, BIFROST_NAMESPACE: ns.namespace, LOG_LEVEL: 'error' };
  const gate = await startService(
    gateService,
    loadConfig(GateConfig, { ...env, PORT: String(await freePort()) }),
    {
      host: '127.0.0.1',
    },
  );
  // Realistic rows: every decision carries the verdict, request and reasons of a real check (ten
  // explained checks, ~2 kB of verdict), as the projector stores them.
  const nc = await connect({ servers: ns.natsUrl, noAsyncTraces: true });
  const sample = JSON.parse(
    new TextDecoder().decode(
      (
        await nc.request(ns.naming.qualify('bifrost.rpc.gate.check'), JSON.stringify(CHECK), {
          timeout: 5000,
        })
      ).data,
    ),
  ) as { data: Record<string, unknown> & { checks: { outcome: string }[] } };
  const projectorDb = await openProjectorDatabase(db.url);
  for (let i = 0; i < 1000; i += 1) {
    await projectorDb.query(
      `INSERT INTO gate_decisions (decision_id, event_id, decided_at, engine_id, strategy_id, action, risk_level, mode,
         size_multiplier, action_kind, action_hash, policy_revision, verdict, request, reasons, stream_seq)
       VALUES ($1, $2, $3, 'bench', 's1', $4, $5, 'enforce', $6, 'order.place', $7, $8, $9, $10, $11, $12)`,
      [
        uuidv7(),
        uuidv7(),
        new Date(Date.now() - i * 1000).toISOString(),
        sample.data['action'],
        sample.data['riskLevel'],
        sample.data['sizeMultiplier'],
        sample.data['actionHash'],
        sample.data['policyRevision'],
        JSON.stringify(sample.data),
        JSON.stringify(CHECK),
        JSON.stringify(sample.data.checks.filter((check) => check.outcome !== 'ALLOW')),
        i + 1,
      ],
    );
  }
  await projectorDb.destroy();

  const gateway = await startService(
    gatewayService,
    loadConfig(GatewayConfig, {
      ...env,
      PORT: String(await freePort()),
      DATABASE_URL: db.url,
      GATEWAY_JWT_SECRET: 'bench-jwt-secret-of-at-least-32-characters',
      GATEWAY_BOOTSTRAP_OWNER_KEY: OWNER,
      GATEWAY_RATE_LIMIT_VIEWER: '1000000',
      GATEWAY_RATE_LIMIT_ENGINE: '1000000',
    }),
    { host: '127.0.0.1' },
  );
  const createKey = async (body: object) => {
    const response = await fetch(`${gateway.url}/api/v1/keys`, {
      method: 'POST',
      headers: { 'x-api-key': OWNER, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return ((await response.json()) as { apiKey: string }).apiKey;
  };
  const viewerKey = await createKey({ name: 'bench viewer', role: 'viewer' });
  const engineKey = await createKey({ name: 'bench engine', role: 'engine', engineId: 'bench' });

  // The baseline: the same query and the same request, with no auth, validation or problem mapping.
  const pool = new Pool({ connectionString: db.url, max: 10 });
  const plain = Fastify();
  plain.get('/plain/decisions', async () => ({
    items: (await pool.query(DECISIONS_SQL, [51])).rows.slice(0, 50),
  }));
  plain.post('/plain/check', async (request) => {
    const msg = await nc.request(ns.naming.qualify('bifrost.rpc.gate.check'), JSON.stringify(request.body), {
      timeout: 5000,
    });
    return (JSON.parse(new TextDecoder().decode(msg.data)) as { data: unknown }).data;
  });
  const plainUrl = await plain.listen({ port: await freePort(), host: '127.0.0.1' });

  try {
    const json = { 'content-type': 'application/json' };
    const pairs = [
      await alternate(
        ROUNDS,
        load('plain GET decisions', { url: `${plainUrl}/plain/decisions` }),
        load('gateway GET /api/v1/decisions?limit=50', {
          url: `${gateway.url}/api/v1/decisions?limit=50`,
          headers: { 'x-api-key': viewerKey },
        }),
      ),
      await alternate(
        ROUNDS,
        load('plain POST check', {
          url: `${plainUrl}/plain/check`,
          method: 'POST',
          headers: json,
          body: JSON.stringify(CHECK),
        }),
        load('gateway POST /api/v1/engine/check', {
          url: `${gateway.url}/api/v1/engine/check`,
          method: 'POST',
          headers: { ...json, 'x-api-key': engineKey },
          body: JSON.stringify(CHECK),
        }),
      ),
    ];
    const lines = [
      `gateway benchmark: ${CONNECTIONS} connections, ${DURATION_MS / 1000} s per run, ${ROUNDS} gateway runs between plain-route runs (node ${process.version})`,
    ];
    for (const pair of pairs) {
      lines.push(
        'runs in the order taken:',
        ...formatAlternation(pair),
        'all runs together (p50/p99: median of the runs):',
        formatRow(pair.baseline),
        formatRow(pair.subject, pair.baseline),
        `  target ≥ 0.7× the plain route: ${pair.medianRatio >= 0.7 ? 'met' : 'NOT met'} (median of the runs' ratios ${pair.medianRatio.toFixed(2)}×)`,
        `  target p99 < 50 ms: ${pair.subject.p99Ms < 50 ? 'met' : 'NOT met'} (median p99 ${pair.subject.p99Ms} ms)`,
      );
    }
    console.log(lines.join('\n'));
  } finally {
    await plain.close();
    await nc.close();
    await pool.end();
    await gateway.close();
    await gate.close();
    await db.drop();
    await ns.cleanup();
  }
}

const args = driverArgs<DriverArgs>();
(args ? drive(args) : main()).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
