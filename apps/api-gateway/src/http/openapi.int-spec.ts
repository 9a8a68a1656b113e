import { startGateway, type GatewayHarness } from '../testing/gateway.fixtures';
import { apiControllers } from '../gateway.service';
import { declaredRoutes } from './openapi';

type Operation = {
  operationId: string;
  summary: string;
  'x-required-role': string;
  requestBody?: { required: boolean; content: Record<string, { schema: unknown }> };
  parameters?: { name: string; in: string; required: boolean }[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
};

describe('the OpenAPI document', () => {
  let h: GatewayHarness;
  let doc: {
    openapi: string;
    info: { title: string };
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, unknown> };
  };

  beforeAll(async () => {
    h = await startGateway('gwoas');
    doc = (await h.http('GET', '/openapi.json')).body;
  });
  afterAll(async () => {
    await h.close();
  });

  it('should be OpenAPI 3 with info, paths and the Problem schema', () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info.title).toBe('Bifrost API');
    expect(doc.components.schemas['Problem']).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['type', 'status']),
    });
  });

  it('should list every declared route once, with a summary, a role, a response schema and unique operation ids', () => {
    const routes = declaredRoutes(apiControllers);
    const operations = routes.map((r) => doc.paths[r.path]?.[r.spec.method.toLowerCase()]);

    expect(routes.length).toBeGreaterThan(40);
    expect(operations.every((o) => o !== undefined)).toBe(true);
    const ids = operations.map((o) => o?.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of operations as Operation[]) {
      expect(op.summary.length).toBeGreaterThan(0);
      expect(op['x-required-role']).toMatch(/^(viewer|operator|admin|owner|engine|any|public)$/);
      const success = Object.entries(op.responses).find(([status]) => status.startsWith('2'));
      expect(success?.[1].content).toBeDefined();
      expect(op.responses['429']).toBeDefined();
      expect(op.responses['default']?.content).toHaveProperty(['application/problem+json']);
    }
  });

  it('should list 401/403 for the public routes that check a credential of their own', () => {
    const token = doc.paths['/api/v1/auth/token']?.['post']?.responses;
    const refresh = doc.paths['/api/v1/auth/refresh']?.['post']?.responses;

    expect(Object.keys(token ?? {})).toEqual(expect.arrayContaining(['401', '403']));
    expect(Object.keys(refresh ?? {})).toEqual(expect.arrayContaining(['401']));
    expect(token?.['401']?.content).toHaveProperty(['application/problem+json']);
  });

  it('should mark query parameters with a default as optional', () => {
    const params = doc.paths['/api/v1/heimdall/evaluations']?.['get']?.parameters;

    expect(params?.find((p) => p.name === 'limit')).toMatchObject({ in: 'query', required: false });
  });

  it('should declare the request headers the ingest routes, the decision stream and the token issue read', () => {
    const headers = (path: string, method: string) =>
      doc.paths[path]?.[method]?.parameters
        ?.filter((p) => p.in === 'header')
        .map((p) => [p.name, p.required]);

    for (const kind of ['kpi', 'outcome', 'heartbeat', 'command', 'incident', 'sandbox'])
      expect(headers(`/api/v1/engine/${kind}`, 'post')).toEqual([
        ['idempotency-key', false],
        ['occurred-at', false],
      ]);
    expect(headers('/api/v1/decisions/stream', 'get')).toEqual([['last-event-id', false]]);
    expect(headers('/api/v1/strategies/{engineId}/{strategyId}/tokens', 'post')).toEqual([
      ['idempotency-key', false],
    ]);
    expect(headers('/api/v1/engine/check', 'post')).toBeUndefined();
  });

  it('should carry the request schemas the gateway validates with', () => {
    const engage = doc.paths['/api/v1/control/kill-switch/engage']?.['post'];
    const schema = engage?.requestBody?.content['application/json']?.schema as {
      required: string[];
      properties: Record<string, unknown>;
    };

    expect(schema.required).toEqual(expect.arrayContaining(['mode', 'reason']));
    expect(schema.properties).not.toHaveProperty('actor');
    expect(engage?.['x-required-role']).toBe('operator');
    expect(doc.paths['/api/v1/engine/check']?.['post']?.['x-required-role']).toBe('engine');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/decisions',
        '/api/v1/decisions/{id}',
        '/api/v1/decisions/stream',
        '/api/v1/audit/verify',
        '/api/v1/keys/{id}',
      ]),
    );
  });

  it('should mark a request body required only when it has a required field (a missing body is read as {})', () => {
    const approve = '/api/v1/strategies/{engineId}/{strategyId}/approvals/{approvalId}/approve';

    expect(doc.paths[approve]?.['post']?.requestBody?.required).toBe(false);
    expect(doc.paths['/api/v1/control/kill-switch/engage']?.['post']?.requestBody?.required).toBe(true);
  });

  it('should serve Swagger UI from local assets', async () => {
    const page = await fetch(`${h.gateway.url}/docs`);
    const html = await page.text();
    const bundle = await fetch(`${h.gateway.url}/docs/assets/swagger-ui-bundle.js`);

    expect(page.headers.get('content-type')).toContain('text/html');
    expect(html).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(html).not.toMatch(/https?:\/\//);
    expect(bundle.status).toBe(200);
    expect((await fetch(`${h.gateway.url}/docs/assets/..%2Fpackage.json`)).status).toBe(404);
  });

  it('should keep health at the root', async () => {
    expect((await fetch(`${h.gateway.url}/health/live`)).status).toBe(200);
  });
});
