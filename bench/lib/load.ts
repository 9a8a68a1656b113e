import { spawn } from 'node:child_process';

/** Latency figures of one run, in milliseconds, and its throughput. */
export interface LoadResult {
  readonly label: string;
  readonly operations: number;
  readonly errors: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly extra?: Record<string, number>;
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
  latencies.sort((a, b) => a - b);
  return {
    label,
    operations: latencies.length,
    errors,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
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
  return `${result.label.padEnd(34)} ${result.perSecond.toFixed(0).padStart(8)}/s${ratio}  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  errors ${result.errors}`;
}
