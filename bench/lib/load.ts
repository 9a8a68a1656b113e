import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Length of one measured run, and how many runs of the service a benchmark alternates with its baseline. */
export const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 5_000);
export const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

/** Latency figures of one run, in milliseconds, and its throughput. */
export interface LoadResult {
  readonly label: string;
  readonly operations: number;
  readonly errors: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time per operation, in µs, of the parties that share the machine. */
  readonly cpu?: CpuPerOperation;
  readonly extra?: Record<string, number>;
}

/**
 * Where one operation's CPU goes: the load driver (measured by itself), the benchmark's own process
 * (the service or the echo it serves) and the local nats-server, when one runs on this machine.
 */
export interface CpuPerOperation {
  readonly driver: number;
  readonly service?: number;
  readonly nats?: number;
  /** Each party's read and write system calls per operation, where `/proc` tells them. */
  readonly syscalls?: Partial<Record<Party, Syscalls>>;
}

/** The parties of a run, in the order their figures are printed. */
const PARTIES = ['service', 'nats', 'driver'] as const;
type Party = (typeof PARTIES)[number];

/**
 * Read and write system calls (`/proc/<pid>/io`, syscr and syscw): how many messages travel in one
 * socket read or write. Fewer, larger ones cost less: each write to a socket also wakes the process
 * at the other end. nats-server's writes include its stream's file writes (one per stored message).
 */
export interface Syscalls {
  readonly reads: number;
  readonly writes: number;
}

/**
 * Closed-loop load: `inFlight` workers each run `operation` back to back until `durationMs` has
 * passed. `operation` returns the latency (ms) to record for it, or undefined to record nothing.
 */
export async function runClosedLoop(
  label: string,
  inFlight: number,
  durationMs: number,
  operation: (worker: number, iteration: number) => Promise<number | undefined>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const cpu = process.cpuUsage();
  const calls = syscallsOf('self');
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, worker) => {
      for (let i = 0; performance.now() < deadline; i += 1) {
        try {
          const latency = await operation(worker, i);
          if (latency !== undefined) latencies.push(latency);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const driverSyscalls = perOperation(calls, syscallsOf('self'), latencies.length);
  latencies.sort((a, b) => a - b);
  return {
    label,
    operations: latencies.length,
    errors,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    cpu: {
      driver: (used.user + used.system) / Math.max(latencies.length, 1),
      ...(driverSyscalls ? { syscalls: { driver: driverSyscalls } } : {}),
    },
  };
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** Times one async call in milliseconds. */
export async function timed(call: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await call();
  return performance.now() - start;
}

/**
 * Runs `script` again as a separate process (the load driver) with `args`, and returns the JSON
 * it prints as its last stdout line, so the measured service never shares a process with its load.
 */
export function runDriver<T>(script: string, args: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', script, '--driver', JSON.stringify(args)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = output.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`driver exited with ${code}: ${output}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch (error) {
        reject(new Error(`driver printed no result: ${String(error)}\n${output}`));
      }
    });
  });
}

/**
 * Runs `run` (a driver run against a service in this process) and adds the CPU this process and
 * the local nats-server spent per operation meanwhile to the driver's own.
 */
export async function withCpu(run: () => Promise<LoadResult>): Promise<LoadResult> {
  const nats = natsServerCpuMicros();
  const own = process.cpuUsage();
  const calls = { service: syscallsOf('self'), nats: natsServerSyscalls() };
  const result = await run();
  const used = process.cpuUsage(own);
  const service = perOperation(calls.service, syscallsOf('self'), result.operations);
  const natsCalls = perOperation(calls.nats, natsServerSyscalls(), result.operations);
  const natsAfter = natsServerCpuMicros();
  const natsUsed = nats === undefined || natsAfter === undefined ? undefined : natsAfter - nats;
  const per = (micros: number) => micros / Math.max(result.operations, 1);
  return {
    ...result,
    cpu: {
      driver: result.cpu?.driver ?? 0,
      service: per(used.user + used.system),
      ...(natsUsed === undefined ? {} : { nats: per(natsUsed) }),
      syscalls: {
        ...result.cpu?.syscalls,
        ...(service ? { service } : {}),
        ...(natsCalls ? { nats: natsCalls } : {}),
      },
    },
  };
}

/** The process's read and write system calls so far, or undefined where `/proc` does not tell. */
function syscallsOf(pid: string): Syscalls | undefined {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1]);
    const calls = { reads: field('syscr'), writes: field('syscw') };
    return Number.isFinite(calls.reads) && Number.isFinite(calls.writes) ? calls : undefined;
  } catch {
    return undefined;
  }
}

function perOperation(before: Syscalls | undefined, after: Syscalls | undefined, operations: number) {
  if (!before || !after) return undefined;
  const n = Math.max(operations, 1);
  return { reads: (after.reads - before.reads) / n, writes: (after.writes - before.writes) / n };
}

/** Clock ticks of /proc/<pid>/stat: USER_HZ, 100 on every Linux that exposes it. */
const TICK_MICROS = 10_000;
let natsPid: string | null | undefined;

/** User + system CPU of the nats-server process on this machine, or undefined where there is none. */
function natsServerCpuMicros(): number | undefined {
  const pid = natsServerPid();
  if (pid === null) return undefined;
  try {
    // After the command name: the state (field 3), …, utime (14) and stime (15), proc(5).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MICROS;
  } catch {
    return undefined;
  }
}

function natsServerSyscalls(): Syscalls | undefined {
  const pid = natsServerPid();
  return pid === null ? undefined : syscallsOf(pid);
}

/** The local nats-server's pid, looked up once; null where none runs on this machine. */
function natsServerPid(): string | null {
  natsPid ??= findProcess('nats-server');
  return natsPid;
}

function findProcess(name: string): string | null {
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name) return pid;
      } catch {
        // gone since the listing
      }
    }
  } catch {
    // no /proc: not Linux
  }
  return null;
}

/** The CPU line of a result: µs per operation of each party measured, and the cores that took. */
export function formatCpu(result: LoadResult, unit = 'request'): string {
  const cpu = result.cpu;
  if (!cpu) return '';
  const part = (name: string, micros: number | undefined) =>
    micros === undefined
      ? []
      : [`${name} ${micros.toFixed(0)} (${((micros * result.perSecond) / 1e6).toFixed(2)} cores)`];
  const parts = [
    ...part(PARTY_NAMES.service, cpu.service),
    ...part(PARTY_NAMES.nats, cpu.nats),
    ...part(PARTY_NAMES.driver, cpu.driver),
  ];
  const calls = cpu.syscalls ?? {};
  const syscalls = PARTIES.flatMap((party) => {
    const c = calls[party];
    return c ? [`${PARTY_NAMES[party]} ${c.reads.toFixed(2)}/${c.writes.toFixed(2)}`] : [];
  });
  return [
    `  CPU per ${unit} in µs, ${result.label}: ${parts.join(', ')}`,
    ...(syscalls.length > 0
      ? [`  system calls per ${unit} (reads/writes), ${result.label}: ${syscalls.join(', ')}`]
      : []),
  ].join('\n');
}

const PARTY_NAMES: Record<Party, string> = {
  service: 'this process',
  nats: 'nats-server',
  driver: 'load driver',
};

/** The driver's arguments when this process was started by {@link runDriver}, else undefined. */
export function driverArgs<T>(): T | undefined {
  const index = process.argv.indexOf('--driver');
  return index === -1 ? undefined : (JSON.parse(process.argv[index + 1] ?? 'null') as T);
}

export function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1024 / 1024);
}

export function formatRow(result: LoadResult, baseline?: LoadResult): string {
  const ratio = baseline ? ` (${(result.perSecond / baseline.perSecond).toFixed(2)}× baseline)` : '';
  return `${result.label.padEnd(40)} ${result.perSecond.toFixed(0).padStart(8)}/s${ratio}  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  errors ${result.errors}`;
}

/** Runs of a baseline and a subject taken in alternation, and how they compare. */
export interface Alternation {
  /** One run of each before the measured ones (JIT, caches, connections), not counted. */
  readonly warmUp: readonly LoadResult[];
  readonly baselines: readonly LoadResult[];
  readonly subjects: readonly LoadResult[];
  /** Each subject run against the mean throughput of the baseline runs on either side of it. */
  readonly ratios: readonly number[];
  readonly medianRatio: number;
  /** All baseline runs together: total operations over total time, median p50 and p99. */
  readonly baseline: LoadResult;
  readonly subject: LoadResult;
}

/**
 * Measures `baseline` and `subject` in alternation, B S B S … B with `rounds` subject runs, so that
 * a drift in the machine's speed during the benchmark (large on shared VMs) hits both alike rather
 * than whichever ran second. Each subject run is compared with the baseline runs on either side.
 * One run of each comes first as a warm-up and is not counted: a service's first seconds under load
 * (JIT compilation) are 10–30 % slower than the rest, and an engine talks to a running service.
 */
export async function alternate(
  rounds: number,
  baseline: () => Promise<LoadResult>,
  subject: () => Promise<LoadResult>,
): Promise<Alternation> {
  const warmUp = [await subject(), await baseline()];
  const baselines = [await baseline()];
  const subjects: LoadResult[] = [];
  for (let round = 0; round < rounds; round += 1) {
    subjects.push(await subject());
    baselines.push(await baseline());
  }
  const ratios = subjects.map(
    (run, i) =>
      run.perSecond /
      (((baselines[i] as LoadResult).perSecond + (baselines[i + 1] as LoadResult).perSecond) / 2),
  );
  return {
    warmUp,
    baselines,
    subjects,
    ratios,
    medianRatio: median(ratios),
    baseline: pooled(baselines),
    subject: pooled(subjects),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function pooled(runs: readonly LoadResult[]): LoadResult {
  const first = runs[0] as LoadResult;
  const operations = runs.reduce((sum, run) => sum + run.operations, 0);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  return {
    label: first.label,
    operations,
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    seconds,
    perSecond: operations / seconds,
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    ...(first.cpu ? { cpu: pooledCpu(runs, operations) } : {}),
  };
}

/** The runs' CPU per operation over all their operations. */
function pooledCpu(runs: readonly LoadResult[], operations: number): CpuPerOperation {
  const mean = (figure: (cpu: CpuPerOperation) => number | undefined) =>
    runs.every((run) => run.cpu && figure(run.cpu) !== undefined)
      ? runs.reduce((sum, run) => sum + (figure(run.cpu as CpuPerOperation) ?? 0) * run.operations, 0) /
        Math.max(operations, 1)
      : undefined;
  const service = mean((cpu) => cpu.service);
  const nats = mean((cpu) => cpu.nats);
  const syscalls: Partial<Record<Party, Syscalls>> = {};
  for (const party of PARTIES) {
    const reads = mean((cpu) => cpu.syscalls?.[party]?.reads);
    const writes = mean((cpu) => cpu.syscalls?.[party]?.writes);
    if (reads !== undefined && writes !== undefined) syscalls[party] = { reads, writes };
  }
  return {
    driver: mean((cpu) => cpu.driver) ?? 0,
    ...(service === undefined ? {} : { service }),
    ...(nats === undefined ? {} : { nats }),
    syscalls,
  };
}

/** One line per run of an alternation, in the order they ran, with each subject run's ratio. */
export function formatAlternation(alternation: Alternation): string[] {
  const lines = alternation.warmUp.map((run) => `  ${formatRow(run)}  (warm-up, not counted)`);
  alternation.baselines.forEach((run, i) => {
    lines.push(`  ${formatRow(run)}`);
    const subject = alternation.subjects[i];
    if (subject)
      lines.push(`  ${formatRow(subject)}  ratio ${(alternation.ratios[i] as number).toFixed(2)}×`);
  });
  return lines;
}
