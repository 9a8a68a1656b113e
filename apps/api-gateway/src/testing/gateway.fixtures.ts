import type { RunningService } from '@bifrost/service';
import {
  createTestDatabase,
  createTestNamespace,
  startTestService,
  type TestDatabase,
  type TestNamespace,
} from '@bifrost/testing';
import { GatewayConfig, gatewayService } from '../gateway.service';

export const OWNER_KEY = 'owner-bootstrap-secret-for-tests-0123456789';
export const JWT_SECRET = 'jwt-secret-for-tests-at-least-32-characters';

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

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
