// npm run bench:gate — gate checks/s, p50/p99 and RSS at 64 in flight from a separate process,
// beside two same-run baselines on the same connection settings: a raw NATS request-reply echo
// and an echo that publishes the request to JetStream and awaits the ack before replying, measured
// in alternation with the gate (BENCH_ROUNDS gate runs, BENCH_DURATION_MS each).
// Targets (issue 3): gate ≥ 0.6× the echo+publish throughput, p50 ≤ its p50 + 0.3 ms.
// `npm run bench:gate` runs this process with the gate's deployed V8 flag (--max-semi-space-size=32,
// docs/operations.md "Memory and GC"), which the echoes in the same process share.
import { connect } from '@nats-io/transport-node';
import type { GateCheckRequest } from '@bifrost/contracts';
import { connectNats, Messaging } from '@bifrost/messaging';
import { createTestNamespace, startTestService } from '@bifrost/testing';
import { GateConfig, gateService } from '../apps/gate/src/gate.service';
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
const ENGINES = 4;
const STRATEGIES = 16;

interface DriverArgs {
  label: string;
  natsUrl: string;
  subject: string;
  /** Send this many bytes instead of a check request (the size-matched baseline). */
  payloadBytes?: number;
  /** Requests in flight; {@link IN_FLIGHT} unless set. */
  inFlight?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A realistic check: an L3 strategy, a notional, declared impact and confidence. */
function request(worker: number, i: number): GateCheckRequest {
  return {
    engineId: `bench-e${worker % ENGINES}`,
    strategyId: `s${worker % STRATEGIES}`,
    action: {
      kind: 'order.place',
      intent: 'open',
      notional: { amount: 10_000 + (i % 1000), currency: 'USD' },
    },
    impact: { irreversible: false, blastRadius: 'strategy', concentration: 0.05 },
    confidence: 0.93,
    requestId: `w${worker}-${i}`,
  };
}

/** The load driver (a separate process): every worker sends the same kind of request, back to back. */
async function drive(args: DriverArgs): Promise<void> {
  const nc = await connect({ servers: args.natsUrl, noAsyncTraces: true });
  // A payload of the given size for the size-matched echo (JSON: its reply is parsed like any).
  const padded =
    args.payloadBytes === undefined
      ? undefined
      : encoder.encode(
          JSON.stringify({ pad: 'x'.repeat(Math.max(0, args.payloadBytes - '{"pad":""}'.length)) }),
        );
  const result = await runClosedLoop(args.label, args.inFlight ?? IN_FLIGHT, DURATION_MS, (worker, i) =>
    timed(async () => {
      const body = padded ?? encoder.encode(JSON.stringify(request(worker, i)));
      const msg = await nc.request(args.subject, body, { timeout: 5000 });
      const reply = JSON.parse(decoder.decode(msg.data)) as { ok?: boolean };
      if (reply.ok === false) throw new Error(JSON.stringify(reply));
    }),
  );
  await nc.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main(): Promise<void> {
  const ns = await createTestNamespace('gbench');
  // The echo baselines serve on a connection made as the services make theirs (same settings).
  const nc = await connectNats({ url: ns.natsUrl, name: 'bench-echo' });
  const rssStart = rssMb();
  try {
    const drive = (subject: string, label: string, inFlight?: number) =>
      runDriver<LoadResult>(__filename, {
        label,
        natsUrl: ns.natsUrl,
        subject,
        ...(inFlight ? { inFlight } : {}),
      } satisfies DriverArgs);
    const echo = startNatsEcho(nc, `${ns.namespace}.bench.echo`);
    const raw = await drive(echo.subject, 'baseline: NATS request-reply echo');
    await echo.stop();
    const jsEcho = await startJetStreamEcho(
      nc,
      `${ns.namespace}.bench.jsecho`,
      `${ns.namespace.toUpperCase()}_BENCH`,
    );

    const gate = await startTestService(GateConfig, gateService, ns, { LOG_LEVEL: 'error' });
    const admin = await Messaging.connect({
      url: ns.natsUrl,
      service: 'bench',
      instanceId: 'b',
      namespace: ns.namespace,
    });
    try {
      const operator = { kind: 'operator', id: 'bench' };
      await admin.rpc.call('bifrost.rpc.gate.cmd.execution-class', {
        actor: operator,
        actionKind: 'order.place',
        executionClass: 'SANDBOX_EXEC',
        reason: 'benchmark',
      });
      for (let e = 0; e < ENGINES; e += 1) {
        for (let s = 0; s < STRATEGIES; s += 1) {
          const ids = { engineId: `bench-e${e}`, strategyId: `s${s}` };
          await admin.rpc.call('bifrost.rpc.gate.cmd.strategy.register', { actor: operator, ...ids });
          await admin.rpc.call('bifrost.rpc.gate.cmd.strategy.override-maturity', {
            actor: operator,
            ...ids,
            level: 'L3',
            reason: 'bench',
          });
        }
      }
      // Per gate run: the decision records it left (the first run is the warm-up).
      const gateRuns: { records: number; bytes: number }[] = [];
      const decisions = () => admin.jsm.streams.info(ns.naming.streams.decisions.name).then((i) => i.state);
      const runs = await alternate(
        ROUNDS,
        () => withCpu(() => drive(jsEcho.subject, 'baseline: echo + JetStream publish')),
        async () => {
          const before = await decisions();
          const run = await withCpu(() =>
            drive(ns.naming.qualify('bifrost.rpc.gate.check'), 'gate: bifrost.rpc.gate.check'),
          );
          const after = await decisions();
          gateRuns.push({
            records: after.messages - before.messages,
            bytes: after.bytes - before.bytes,
          });
          return run;
        },
      );
      // The latency each adds to one request alone, without the queueing of 64 in flight (there,
      // the median is 64 ÷ throughput: the p50 target measures throughput a second time).
      const aloneBaseline = await drive(jsEcho.subject, 'baseline: echo + JetStream publish, 1 in flight', 1);
      const aloneGate = await drive(
        ns.naming.qualify('bifrost.rpc.gate.check'),
        'gate: bifrost.rpc.gate.check, 1 in flight',
        1,
      );
      await jsEcho.stop();
      const { baseline: recorded, subject: checks } = runs;
      const measured = gateRuns.slice(1);
      const total = (key: 'records' | 'bytes') => measured.reduce((sum, r) => sum + r[key], 0);
      const records = total('records');
      const recordBytes = Math.round(total('bytes') / Math.max(records, 1));
      const rssGate = rssMb();

      // The baseline stores the small request; a gate decision record (the verdict with its
      // explained checks) is several times larger, so the same echo with a payload of the record's
      // size shows what JetStream itself allows for such records on this machine.
      const sizedEcho = await startJetStreamEcho(
        nc,
        `${ns.namespace}.bench.sized`,
        `${ns.namespace.toUpperCase()}_SIZED`,
      );
      const sized = await withCpu(() =>
        runDriver<LoadResult>(__filename, {
          label: `echo + JetStream publish of ${recordBytes} B`,
          natsUrl: ns.natsUrl,
          subject: sizedEcho.subject,
          payloadBytes: recordBytes,
        } satisfies DriverArgs),
      );
      await sizedEcho.stop();

      const ratio = runs.medianRatio;
      const p50Budget = recorded.p50Ms + 0.3;
      process.stdout.write(
        [
          `gate benchmark: ${IN_FLIGHT} in flight from a separate process, ${DURATION_MS / 1000} s per run, ${ROUNDS} gate runs between echo+JetStream runs (node ${process.version} ${process.execArgv.filter((a) => a.startsWith('--max')).join(' ') || 'with default V8 flags'}, ${ENGINES * STRATEGIES} strategies at L3)`,
          formatRow(raw),
          'runs in the order taken:',
          ...formatAlternation(runs),
          'all runs together (p50/p99: median of the runs):',
          formatRow(recorded),
          formatRow(checks, recorded),
          formatRow(sized),
          `  the gate against the size-matched baseline: ${(checks.perSecond / sized.perSecond).toFixed(2)}×`,
          formatRow(aloneBaseline),
          formatRow(aloneGate),
          `  one request alone: the gate's p50 is ${(aloneGate.p50Ms - aloneBaseline.p50Ms).toFixed(2)} ms above the baseline's (not a target; see docs/performance.md)`,
          `  decision records stored during the gate runs: ${records} for ${checks.operations} answered checks (${recordBytes} B each on average)`,
          formatCpu(recorded),
          formatCpu(sized),
          formatCpu(checks, 'check'),
          `  RSS: ${rssStart} MB at start, ${rssGate} MB with the gate in this process`,
          `  target throughput ≥ 0.6× echo+JetStream: ${ratio >= 0.6 ? 'met' : 'NOT met'} (median of the runs' ratios ${ratio.toFixed(2)}×)`,
          `  target p50 ≤ ${p50Budget.toFixed(2)} ms (echo+JetStream p50 + 0.3 ms): ${checks.p50Ms <= p50Budget ? 'met' : 'NOT met'} (${checks.p50Ms.toFixed(2)} ms)`,
          '',
        ].join('\n'),
      );
    } finally {
      await admin.drain();
      await gate.close();
    }
  } finally {
    await nc.close();
    await ns.cleanup();
  }
}

const args = driverArgs<DriverArgs>();
void (args ? drive(args) : main()).catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
