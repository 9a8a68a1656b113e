import type { Static, TObject } from '@sinclair/typebox';
import type { CommonConfig } from '@bifrost/config';
import { Messaging } from '@bifrost/messaging';
import type { RunningService, ServiceDefinition } from '@bifrost/service';
import {
  createTestDatabase,
  createTestNamespace,
  startTestService,
  type TestDatabase,
  type TestNamespace,
} from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { ProjectorConfig, projectorService } from '@bifrost/projector/src/projector.service';
import { GatewayConfig, gatewayService } from '../gateway.service';

export const OWNER_KEY = 'owner-bootstrap-secret-for-tests-0123456789';
export const JWT_SECRET = 'jwt-secret-for-tests-at-least-32-characters';

/**
 * People's rate limits for test gateways. Specs poll read routes (`waitFor`, every 20 ms) faster
 * than the 20/s default allows, and a drained bucket would answer the next assertion 429. Specs of
 * the rate limits themselves pass their own limits, which win.
 */
const TEST_RATE_LIMITS = {
  GATEWAY_RATE_LIMIT_VIEWER: '1000',
  GATEWAY_RATE_LIMIT_OPERATOR: '1000',
  GATEWAY_RATE_LIMIT_ADMIN: '1000',
  GATEWAY_RATE_LIMIT_OWNER: '1000',
};

/** A gateway on a fresh namespace and database, with a bootstrap owner key. */
export interface GatewayHarness {
  readonly ns: TestNamespace;
  readonly db: TestDatabase;
  readonly gateway: RunningService;
  /** fetch against the gateway, JSON in and out (bodies are read loosely, as a client would). */
  http(
    method: string,
    path: string,
    options?: { key?: string; token?: string; body?: unknown; headers?: Record<string, string> },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions dig into bodies freely
  ): Promise<{ status: number; headers: Headers; body: any }>;
  /** Creates an API key through the API with the owner key; returns its secret and id. */
  createKey(role: string, extra?: Record<string, unknown>): Promise<{ id: string; apiKey: string }>;
  close(): Promise<void>;
}

export async function startGateway(
  label: string,
  env: Record<string, string> = {},
  existing?: { ns: TestNamespace; db: TestDatabase },
): Promise<GatewayHarness> {
  const ns = existing?.ns ?? (await createTestNamespace(label));
  const db = existing?.db ?? (await createTestDatabase(label));
  const gateway = await startTestService(GatewayConfig, gatewayService, ns, {
    DATABASE_URL: db.url,
    GATEWAY_JWT_SECRET: JWT_SECRET,
    GATEWAY_BOOTSTRAP_OWNER_KEY: OWNER_KEY,
    ...TEST_RATE_LIMITS,
    ...env,
  });
  const http: GatewayHarness['http'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.key) headers['x-api-key'] = options.key;
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${gateway.url}${path}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : tryJson(text),
    };
  };
  let counter = 0;
  return {
    ns,
    db,
    gateway,
    http,
    createKey: async (role, extra = {}) => {
      counter += 1;
      const created = await http('POST', '/api/v1/keys', {
        key: OWNER_KEY,
        body: { name: `${role}-${counter}`, role, ...extra },
      });
      if (created.status !== 201) throw new Error(`key creation failed: ${JSON.stringify(created.body)}`);
      return { id: created.body.id as string, apiKey: created.body.apiKey as string };
    },
    close: async () => {
      await gateway.close();
      if (!existing) {
        await db.drop();
        await ns.cleanup();
      }
    },
  };
}

/** Starts one service beside the gateway, on the gateway's namespace (and database, if it needs one). */
export type PeerStarter = (place: { ns: TestNamespace; db: TestDatabase }) => Promise<RunningService>;

/** A service of another app, in this process, configured as in production; logs errors only. */
export function peer<S extends TObject>(
  schema: S,
  definition: ServiceDefinition<Static<S> & CommonConfig>,
  env: Record<string, string> = {},
): PeerStarter {
  return ({ ns }) => startTestService(schema, definition, ns, { LOG_LEVEL: 'error', ...env });
}

/** The projector writing the gateway's read models, so read routes see what the services publish. */
export const projectorPeer: PeerStarter = ({ ns, db }) =>
  startTestService(ProjectorConfig, projectorService, ns, {
    DATABASE_URL: db.url,
    PROJECTOR_LOCK_POLL_MS: '50',
    // Its audit log reports would be events and audit rows of their own, which these tests count.
    PROJECTOR_AUDIT_VERIFY_INTERVAL_MS: '0',
    LOG_LEVEL: 'error',
  });

/** A client on the namespace, to look at streams and events behind the gateway's back. */
export function connectProbe(ns: TestNamespace): Promise<Messaging> {
  return Messaging.connect({ url: ns.natsUrl, service: 'probe', instanceId: 'p', namespace: ns.namespace });
}

export type KeyRole = 'viewer' | 'operator' | 'admin' | 'engine';
const ROLES: readonly KeyRole[] = ['viewer', 'operator', 'admin', 'engine'];

/** A gateway with the services its routes need, a probe client and one API key per role. */
export interface GatewayStack<P extends string = never> extends GatewayHarness {
  readonly probe: Messaging;
  readonly peers: Readonly<Record<P, RunningService>>;
  /** Secrets to send as `key`; the engine key is bound to the stack's engine. */
  readonly keys: Readonly<Record<KeyRole, string>>;
  readonly keyIds: Readonly<Record<KeyRole, string>>;
  /** Closes one peer ahead of the others (to see the gateway without it); `close()` skips it. */
  stopPeer(name: P): Promise<void>;
}

/**
 * `startGateway` plus `peers` started beside it (in parallel), a probe client and the role keys.
 * `close()` closes the probe and the peers, then the gateway, its database and namespace.
 */
export async function startGatewayStack<P extends string = never>(
  label: string,
  options: { engineId: string; peers?: Record<P, PeerStarter>; env?: Record<string, string> },
): Promise<GatewayStack<P>> {
  const h = await startGateway(label, options.env);
  const peers = {} as Record<P, RunningService>;
  const running = new Set<RunningService>();
  let probe: Messaging | undefined;
  const close = async () => {
    await probe?.drain();
    await Promise.all([...running].map((service) => service.close()));
    running.clear();
    await h.close();
  };
  try {
    const starters = Object.entries(options.peers ?? {}) as [P, PeerStarter][];
    const started = await Promise.allSettled(
      starters.map(async ([name, start]) => {
        const service = await start({ ns: h.ns, db: h.db });
        peers[name] = service;
        running.add(service);
      }),
    );
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    probe = await connectProbe(h.ns);
    const keys = {} as Record<KeyRole, string>;
    const keyIds = {} as Record<KeyRole, string>;
    for (const role of ROLES) {
      const created = await h.createKey(role, role === 'engine' ? { engineId: options.engineId } : {});
      keys[role] = created.apiKey;
      keyIds[role] = created.id;
    }
    return {
      ...h,
      probe,
      peers,
      keys,
      keyIds,
      stopPeer: async (name) => {
        if (running.delete(peers[name])) await peers[name].close();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
