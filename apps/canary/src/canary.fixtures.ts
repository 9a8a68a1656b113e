import { createServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { CanaryStatus, DataOf, HeartbeatReported, ProbeConfig, ProbeView } from '@bifrost/contracts';
import { Messaging, createEnvelope } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { startTestService, type TestNamespace } from '@bifrost/testing';
import { CanaryConfig, canaryService } from './canary.service';

export const OPERATOR = { kind: 'operator' as const, id: 'alice' };

/** Starts the canary in this process; no default probes unless asked, a fast heartbeat sweep. */
export function startCanary(ns: TestNamespace, env: Record<string, string> = {}): Promise<RunningService> {
  return startTestService(CanaryConfig, canaryService, ns, {
    LOG_LEVEL: 'error',
    CANARY_DEFAULT_PROBES: 'false',
    CANARY_HEARTBEAT_SWEEP_MS: '50',
    ...env,
  });
}

export function connectClient(ns: TestNamespace): Promise<Messaging> {
  return Messaging.connect({
    url: ns.natsUrl,
    service: 'operator',
    instanceId: 'c1',
    namespace: ns.namespace,
  });
}

/** A real HTTP server whose answers the test controls: 200 `ok`, 503, or no answer at all. */
export interface ControlledServer {
  readonly url: string;
  mode: 'ok' | 'fail';
  requests: number;
  close(): Promise<void>;
}

export async function controlledServer(): Promise<ControlledServer> {
  const state = { mode: 'ok' as 'ok' | 'fail', requests: 0 };
  const server: HttpServer = createServer((_req, res) => {
    state.requests += 1;
    res.statusCode = state.mode === 'ok' ? 200 : 503;
    res.end(state.mode === 'ok' ? 'ready' : 'unavailable');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Accepts TCP connections and never answers a byte: a hung target. */
export async function hungServer(): Promise<{ url: string; connections: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server: TcpServer = createTcpServer((socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}

export function httpProbe(name: string, url: string, overrides: Partial<ProbeConfig> = {}): ProbeConfig {
  return {
    name,
    kind: 'http',
    target: url,
    intervalMs: 100,
    timeoutMs: 100,
    failureThreshold: 3,
    recoveryThreshold: 2,
    action: 'alert_only',
    ...overrides,
  };
}

export function upsertProbe(client: Messaging, probe: ProbeConfig): Promise<ProbeView> {
  return client.rpc.call<ProbeView>('bifrost.rpc.canary.cmd.upsert-probe', {
    actor: OPERATOR,
    reason: 'test probe',
    probe,
  });
}

export function removeProbe(client: Messaging, probeName: string): Promise<unknown> {
  return client.rpc.call('bifrost.rpc.canary.cmd.remove-probe', {
    actor: OPERATOR,
    reason: 'done',
    probeName,
  });
}

export function status(client: Messaging): Promise<CanaryStatus> {
  return client.rpc.call<CanaryStatus>('bifrost.rpc.canary.status', {});
}

export async function probeView(client: Messaging, name: string): Promise<ProbeView | undefined> {
  return (await status(client)).probes.find((p) => p.probe.name === name);
}

export function heartbeat(
  client: Messaging,
  ns: TestNamespace,
  engineId: string,
  fields: Partial<Omit<DataOf<typeof HeartbeatReported>, 'engineId'>> & { occurredAt?: string } = {},
): Promise<unknown> {
  const { occurredAt, ...reported } = fields;
  return client.publisher.publish(
    createEnvelope({
      type: 'ingest.HeartbeatReported',
      subject: ns.naming.ingestSubject('heartbeat', engineId),
      source: 'sdk',
      actor: { kind: 'engine', id: engineId },
      data: { engineId, ...reported },
      ...(occurredAt ? { occurredAt } : {}),
    }),
  );
}

/** Every event of one canary aggregate, straight from the stream: type and data. */
export async function canaryEvents(
  client: Messaging,
  ns: TestNamespace,
  aggregateType: 'probe' | 'engine',
  id: string,
): Promise<{ type: string; data: Record<string, unknown>; actor: unknown }[]> {
  const { events } = await client.eventStore.read(ns.naming.eventSubject('canary', aggregateType, id));
  return events.map((e) => ({ type: e.envelope.type, data: e.envelope.data, actor: e.envelope.actor }));
}
