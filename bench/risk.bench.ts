// npm run bench:risk — risk-guard reservations/s at 64 in flight beside same-run NATS baselines; the
// echo+JetStream baseline is measured in alternation with risk-guard (BENCH_ROUNDS runs of BENCH_DURATION_MS).
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { loadConfig } from '@bifrost/config';
import type { LedgerView, ReserveReply } from '@bifrost/contracts';
import { connectNats, Messaging } from '@bifrost/messaging';
import { startService } from '@bifrost/service';
import { createTestNamespace, freePort } from '@bifrost/testing';
import { RiskGuardConfig, riskGuardService } from '../apps/risk-guard/src/risk-guard.service';
import { startJetStreamEcho, startNatsEcho } from './lib/echo-baselines';
import {
  DURATION_MS,
  ROUNDS,
  alternate,
  driverArgs,
  formatAlternation,
  formatCpu,
  formatRow,
  rssMb,
  runClosedLoop,
  runDriver,
  timed,
  withCpu,
  type LoadResult,
} from './lib/load';

const IN_FLIGHT = 64;
const ENGINE = 'bench-engine';
const CAPS: Record<string, { loss: number; exposure: number; actions: number }> = {
  GLOBAL: { loss: 50_000_000, exposure: 500_000_000, actions: 10_000_000 },
  [ENGINE]: { loss: 40_000_000, exposure: 2_000_000, actions: 10_000_000 },
};

interface DriverArgs {
  mode: 'echo' | 'risk';
  natsUrl: string;
  subject: string;
  namespace?: string;
}

const usd = (amount: number) => ({ amount, currency: 'USD' });
const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function drive(args: DriverArgs): Promise<void> {
  const nc = await connect({ servers: args.natsUrl, noAsyncTraces: true });
  let result: LoadResult;
  if (args.mode === 'echo') {
    const payload = encoder.encode(JSON.stringify(reserveRequest(0, 0)));
    result = await runClosedLoop('echo', IN_FLIGHT, DURATION_MS, () =>
      timed(() => nc.request(args.subject, payload, { timeout: 5000 })),
    );
  } else {
    const counts = { granted: 0, denied: 0, settled: 0 };
    const call = async (op: string, body: unknown) => {
      const msg = await nc.request(
        `${args.namespace}.bifrost.rpc.risk.${op}`,
        encoder.encode(JSON.stringify(body)),
        {
          timeout: 5000,
        },
      );
      const reply = JSON.parse(decoder.decode(msg.data)) as { ok: boolean; data: ReserveReply };
      if (!reply.ok) throw new Error(JSON.stringify(reply));
      return reply.data;
    };
    result = await runClosedLoop('risk-guard reserve', IN_FLIGHT, DURATION_MS, async (worker, i) => {
      let reply: ReserveReply | undefined;
      const latency = await timed(async () => (reply = await call('reserve', reserveRequest(worker, i))));
      if (reply?.outcome !== 'GRANTED') {
        counts.denied += 1;
        return latency;
      }
      counts.granted += 1;
      // Half the clients settle what they reserved; the other half leave it to expire.
      if (worker % 2 === 0) {
        await call('settle', {
          engineId: ENGINE,
          reservationId: reply.reservationId,
          realizedLoss: usd(i % 50),
        });
        counts.settled += 1;
      }
      return latency;
    });
    result = { ...result, extra: counts };
  }
  await nc.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function reserveRequest(worker: number, i: number) {
  return {
    engineId: ENGINE,
    idempotencyKey: `w${worker}-i${i}-${process.pid}`,
    maxLoss: usd(100 + ((worker * 7 + i) % 400)),
    exposure: usd(1_000 + ((worker * 13 + i) % 4_000)),
    ttlMs: 2_000,
  };
}

async function main(): Promise<void> {
  const ns = await createTestNamespace('bench');
  // The echo baselines serve on a connection made as the services make theirs (same settings).
  const nc = await connectNats({ url: ns.natsUrl, name: 'bench-echo' });
  const rssBefore = rssMb();
  try {
    const echo = async (subject: string, label: string) => ({
      ...(await runDriver<LoadResult>(__filename, { mode: 'echo', natsUrl: ns.natsUrl, subject })),
      label,
    });
    const rawEcho = startNatsEcho(nc, `${ns.namespace}.bench.echo`);
    const raw = await echo(rawEcho.subject, 'baseline: NATS request-reply echo');
    await rawEcho.stop();
    const jsEcho = await startJetStreamEcho(
      nc,
      `${ns.namespace}.bench.jsecho`,
      `${ns.namespace.toUpperCase()}_BENCH`,
    );
    const rssBaseline = rssMb();

    const config = loadConfig(RiskGuardConfig, {
      NATS_URL: ns.natsUrl,
      BIFROST_NAMESPACE: ns.namespace,
      PORT: String(await freePort()),
      LOG_LEVEL: 'error',
      RISK_SEED_POLICIES: 'false',
      RISK_EXPIRY_SWEEP_MS: '200',
    });
    const service = await startService(riskGuardService, config, { host: '127.0.0.1' });
    const admin = await Messaging.connect({
      url: ns.natsUrl,
      service: 'bench',
      instanceId: 'b1',
      namespace: ns.namespace,
    });
    try {
      for (let attempt = 0; !(await admin.rpc.request('bifrost.rpc.risk.ledger', {})).ok; attempt += 1) {
        if (attempt > 100) throw new Error('risk-guard has no leader');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (const [policyId, caps] of Object.entries(CAPS)) {
        await admin.rpc.call('bifrost.rpc.risk.cmd.upsert-policy', {
          actor: { kind: 'operator', id: 'bench' },
          reason: 'benchmark',
          policyId,
          maxDailyLoss: usd(caps.loss),
          maxDailyExposure: usd(caps.exposure),
          maxDailyActions: caps.actions,
        });
      }
      const runs = await alternate(
        ROUNDS,
        () => withCpu(() => echo(jsEcho.subject, 'baseline: echo + JetStream publish')),
        () =>
          withCpu(() =>
            runDriver<LoadResult>(__filename, {
              mode: 'risk',
              natsUrl: ns.natsUrl,
              subject: '',
              namespace: ns.namespace,
            }),
          ),
      );
      await jsEcho.stop();
      const { baseline: jsBaseline, subject: risk } = runs;
      const counts = (key: string) => runs.subjects.reduce((sum, run) => sum + (run.extra?.[key] ?? 0), 0);
      const rssRisk = rssMb();
      const overshoot = await checkCaps(admin, ns.naming.streams.decisions.name, ns.natsUrl);

      const ratio = runs.medianRatio;
      const lines = [
        `risk-guard benchmark: ${IN_FLIGHT} in flight, ${DURATION_MS / 1000} s per run, ${ROUNDS} risk-guard runs between echo+JetStream runs, half the clients settling (node ${process.version})`,
        formatRow(raw),
        'runs in the order taken:',
        ...formatAlternation(runs),
        'all runs together (p50/p99: median of the runs):',
        formatRow(jsBaseline),
        formatRow(risk, jsBaseline),
        formatCpu(jsBaseline),
        formatCpu(risk, 'reservation (half the clients also settle)'),
        `  reservations: ${counts('granted')} granted, ${counts('denied')} denied, ${counts('settled')} settled`,
        `  RSS: ${rssBefore} MB at start, ${rssBaseline} MB after the baselines, ${rssRisk} MB with risk-guard (in-process)`,
        `  caps: ${overshoot.decisions} decisions in ${overshoot.records} decision records and the final ledger checked, ${overshoot.violations} overshoot(s)`,
        `  target ≥ 0.5× echo+JetStream: ${ratio >= 0.5 ? 'met' : 'NOT met'} (median of the runs' ratios ${ratio.toFixed(2)}×)`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      if (overshoot.violations > 0) process.exitCode = 1;
    } finally {
      await service.close();
      await admin.drain();
    }
  } finally {
    await nc.close();
    await ns.cleanup();
  }
}

/** Zero overshoot: the usage after every recorded decision and in the final ledger stays within the caps. */
async function checkCaps(
  admin: Messaging,
  stream: string,
  natsUrl: string,
): Promise<{ records: number; decisions: number; violations: number }> {
  type Usage = { realizedLoss: number; reservedLoss: number; reservedExposure: number; actions: number };
  let violations = 0;
  const check = (policyId: string, u: Usage | undefined) => {
    const caps = CAPS[policyId];
    if (!u || !caps) return;
    if (
      u.realizedLoss + u.reservedLoss > caps.loss ||
      u.reservedExposure > caps.exposure ||
      u.actions > caps.actions
    )
      violations += 1;
  };
  const view = await admin.rpc.call<LedgerView>('bifrost.rpc.risk.ledger', {});
  for (const [policyId, usage] of Object.entries(view.usage)) check(policyId, usage);

  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  const total = (await jsm.streams.info(stream)).state.messages;
  let records = 0;
  let decisions = 0;
  if (total > 0) {
    const consumer = await jetstream(nc).consumers.get(stream);
    const messages = await consumer.consume();
    for await (const msg of messages) {
      const { data } = msg.json<{ data: { decisions: { usage: Record<string, Usage> }[] } }>();
      for (const decision of data.decisions) {
        for (const [policyId, usage] of Object.entries(decision.usage)) check(policyId, usage);
        decisions += 1;
      }
      records += 1;
      if (records >= total) break;
    }
  }
  await nc.close();
  return { records, decisions, violations };
}

const args = driverArgs<DriverArgs>();
(args ? drive(args) : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
