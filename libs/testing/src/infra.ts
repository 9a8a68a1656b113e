import { execFileSync } from 'node:child_process';
import { createConnection } from 'node:net';

/**
 * Where the tests find NATS and Postgres: `NATS_URL`/`DATABASE_URL`, else the local defaults when
 * they answer, else testcontainers when a Docker engine is reachable, else a clear failure.
 */
export interface Infra {
  readonly natsUrl: string;
  readonly databaseUrl: string;
}

const LOCAL_NATS = 'nats://127.0.0.1:4222';
const LOCAL_DATABASE = 'postgres://postgres@127.0.0.1:5432/postgres';

let resolved: Promise<Infra> | undefined;

export function infra(): Promise<Infra> {
  resolved ??= resolveInfra();
  return resolved;
}

async function resolveInfra(): Promise<Infra> {
  const natsUrl = process.env['NATS_URL'] ?? ((await answers(LOCAL_NATS)) ? LOCAL_NATS : undefined);
  const databaseUrl =
    process.env['DATABASE_URL'] ?? ((await answers(LOCAL_DATABASE)) ? LOCAL_DATABASE : undefined);
  if (natsUrl && databaseUrl) return { natsUrl, databaseUrl };
  if (!dockerAvailable()) {
    throw new Error(
      [
        'Tests need a NATS server with JetStream and PostgreSQL.',
        natsUrl ? '' : '- NATS: set NATS_URL, or run `nats-server -js` on 127.0.0.1:4222.',
        databaseUrl
          ? ''
          : '- Postgres: set DATABASE_URL, or run PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth).',
        'Neither was found and no Docker engine is reachable for testcontainers.',
      ]
        .filter(Boolean)
        .join('\n'),
    );
  }
  return {
    natsUrl: natsUrl ?? (await startNatsContainer()),
    databaseUrl: databaseUrl ?? (await startPostgresContainer()),
  };
}

function answers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

// Containers live until the jest worker exits (testcontainers' reaper removes them).
async function startNatsContainer(): Promise<string> {
  const { NatsContainer } = await import('@testcontainers/nats');
  const container = await new NatsContainer('nats:2.9-alpine').withJetStream().start();
  return `nats://${container.getHost()}:${container.getMappedPort(4222)}`;
}

async function startPostgresContainer(): Promise<string> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:15-alpine').start();
  return container.getConnectionUri();
}
