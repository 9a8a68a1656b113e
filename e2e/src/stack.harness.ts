import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Messaging } from '@bifrost/messaging';
import {
  createTestDatabase,
  createTestNamespace,
  freePort,
  waitFor,
  type TestDatabase,
  type TestNamespace,
} from '@bifrost/testing';

/**
 * The services the end-to-end suite runs: every app with a `main.ts`, in start order (the projector
 * migrates the read models first; the others start together).
 */
export const STACK_SERVICES = [
  'projector',
  'gate',
  'risk-guard',
  'tripwire',
  'heimdall',
  'canary',
  'governance-agent',
  'api-gateway',
] as const;
export type StackService = (typeof STACK_SERVICES)[number];

/** One service started from its `main.ts` as a child process, as in production. */
export interface ServiceProcess {
  readonly name: StackService;
  readonly url: string;
  /** The process's recent stdout and stderr, for failure messages. */
  output(): string;
}

/** The whole stack on one NATS namespace and one fresh database. */
export interface Stack {
  readonly ns: TestNamespace;
  readonly db: TestDatabase;
  readonly gatewayUrl: string;
  readonly services: Readonly<Record<StackService, ServiceProcess>>;
  /** SIGTERM to every service; resolves with each exit code (null: killed after the grace period). */
  stop(): Promise<Record<StackService, number | null>>;
}

export interface StackOptions {
  /** Variables added to every service's environment (e.g. GATEWAY_JWT_SECRET). */
  readonly env: Readonly<Record<string, string>>;
  /** Bound on each service's start, until /health/ready answers 200. */
  readonly readyTimeoutMs?: number;
  /** Bound on each service's graceful shutdown before it is killed. */
  readonly stopTimeoutMs?: number;
}

const repoRoot = resolve(__dirname, '../..');
// Enough of the log to explain a failed start without holding a whole run in memory.
const OUTPUT_LIMIT = 64 * 1024;

interface Running extends ServiceProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

/**
 * Starts the real services with `node -r @swc-node/register apps/<name>/src/main.ts` against the
 * test NATS and a fresh Postgres database, each on a free port, and waits for every
 * `/health/ready`. The projector goes first: it creates the read-model tables the gateway reads,
 * and two migration runs racing on a fresh database could both try to create the migrations table.
 */
export async function startStack(label: string, options: StackOptions): Promise<Stack> {
  const ns = await createTestNamespace(label);
  const db = await createTestDatabase(label);
  const started: Running[] = [];
  // Ports are chosen up front so the canary's default readiness probes watch this stack, not
  // whatever listens on the `npm start` ports it defaults to.
  const ports = {} as Record<StackService, number>;
  for (const name of STACK_SERVICES) {
    let port = await freePort();
    while (Object.values(ports).includes(port)) port = await freePort();
    ports[name] = port;
  }
  const env = {
    ...process.env,
    NATS_URL: ns.natsUrl,
    DATABASE_URL: db.url,
    BIFROST_NAMESPACE: ns.namespace,
    LOG_LEVEL: 'warn',
    CANARY_SERVICE_URLS: STACK_SERVICES.filter((name) => name !== 'canary')
      .map((name) => `${name}=${urlOf(ports[name])}`)
      .join(','),
    ...options.env,
  };
  const stopAll = () => stopServices(started, options.stopTimeoutMs ?? 20_000);
  try {
    const [first, ...rest] = STACK_SERVICES;
    started.push(await startService(first, ports[first], env, options.readyTimeoutMs));
    const others = rest.map((name) => startService(name, ports[name], env, options.readyTimeoutMs));
    const settled = await Promise.allSettled(others);
    for (const result of settled) if (result.status === 'fulfilled') started.push(result.value);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (error) {
    await stopAll();
    await db.drop();
    await ns.cleanup();
    throw error;
  }
  const services = Object.fromEntries(started.map((s) => [s.name, s])) as Record<StackService, Running>;
  return {
    ns,
    db,
    gatewayUrl: services['api-gateway'].url,
    services,
    stop: async () => {
      const codes = await stopAll();
      await db.drop();
      await ns.cleanup();
      return codes;
    },
  };
}

const urlOf = (port: number) => `http://127.0.0.1:${port}`;

async function startService(
  name: StackService,
  port: number,
  env: NodeJS.ProcessEnv,
  readyTimeoutMs = 60_000,
): Promise<Running> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', `apps/${name}/src/main.ts`], {
    cwd: repoRoot,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const running: Running = { name, url: urlOf(port), child, exited, output: () => output };

  const ready = waitFor(
    async () => (await fetch(`${running.url}/health/ready`).catch(() => undefined))?.status === 200,
    { timeoutMs: readyTimeoutMs, intervalMs: 100, what: `${name} to become ready` },
  );
  const died = exited.then((code) => {
    throw new Error(`${name} exited with ${code} before it was ready:\n${output}`);
  });
  // Whichever loses the race must not surface later as an unhandled rejection.
  ready.catch(() => undefined);
  died.catch(() => undefined);
  try {
    await Promise.race([ready, died]);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n--- ${name} output ---\n${output}`);
  }
  return running;
}

async function stopServices(
  services: readonly Running[],
  stopTimeoutMs: number,
): Promise<Record<StackService, number | null>> {
  const codes = await Promise.all(
    services.map(async (service) => {
      if (service.child.exitCode !== null) return [service.name, service.child.exitCode] as const;
      service.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>((done) => {
        timer = setTimeout(() => done('timeout'), stopTimeoutMs);
      });
      const result = await Promise.race([service.exited, graceOver]);
      clearTimeout(timer);
      if (result !== 'timeout') return [service.name, result] as const;
      service.child.kill('SIGKILL');
      await service.exited;
      return [service.name, null] as const;
    }),
  );
  return Object.fromEntries(codes) as Record<StackService, number | null>;
}

/** A client on the stack's namespace, for reading streams straight from the source of truth. */
export function connectProbe({ ns }: { readonly ns: TestNamespace }): Promise<Messaging> {
  return Messaging.connect({
    url: ns.natsUrl,
    service: 'e2e-probe',
    instanceId: 'p',
    namespace: ns.namespace,
  });
}

/** Stops the stack and asserts every service drained and exited 0 on SIGTERM (DESIGN §9). */
export async function stopCleanly(stack: Stack): Promise<void> {
  const codes = await stack.stop();
  // A service that did not exit 0 (it crashed during the run, or did not drain) shows its last output.
  for (const name of STACK_SERVICES.filter((service) => codes[service] !== 0)) {
    process.stderr.write(
      `--- ${name} exited with ${codes[name]}; its last output ---\n${stack.services[name].output()}\n`,
    );
  }
  expect(codes).toEqual(Object.fromEntries(STACK_SERVICES.map((name) => [name, 0])));
}
