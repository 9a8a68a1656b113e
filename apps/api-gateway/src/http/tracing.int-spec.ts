import { randomBytes } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { httpInstrumentation } from '@bifrost/observability';
import { instrumentCoreModules, recordSpans, waitFor } from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { GateConfig, gateService } from '@bifrost/gate/src/gate.service';
import { peer, projectorPeer, startGatewayStack, type GatewayStack } from '../testing/gateway.fixtures';

const exporter = recordSpans();
const uninstrument = instrumentCoreModules(httpInstrumentation());

describe('gateway tracing', () => {
  let h: GatewayStack<'gate' | 'projector'>;

  beforeAll(async () => {
    h = await startGatewayStack('gwtrace', {
      engineId: 'engine-a',
      peers: { gate: peer(GateConfig, gateService), projector: projectorPeer },
    });
  });
  afterAll(async () => {
    await h?.close();
    uninstrument();
  });

  /** Sends a request in a trace of its own, as a traced caller would; returns that trace's spans. */
  const traced = async (method: string, path: string, options: { key?: string; body?: unknown } = {}) => {
    const caller = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
    const response = await h.http(method, path, {
      ...options,
      headers: { traceparent: `00-${caller.traceId}-${caller.spanId}-01` },
    });
    const inTrace = () =>
      exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === caller.traceId);
    // The server span ends once the response is closed, which may be after the client has read it.
    const server = await waitFor(() => inTrace().find(isHttpServerSpan), { what: `${method} ${path} span` });
    return { response, caller, server, inTrace };
  };

  describe('When a route with path parameters answers', () => {
    it('should name the server span after the route template, not the path', async () => {
      const { response, server } = await traced('GET', '/api/v1/decisions/d-404', { key: h.keys.viewer });

      expect(response.status).toBe(404);
      expect(server.name).toBe('GET /api/v1/decisions/:id');
      expect(server.attributes['http.route']).toBe('/api/v1/decisions/:id');
    });
  });

  describe('When a route without parameters answers', () => {
    it('should name the server span after the route', async () => {
      const { response, server } = await traced('GET', '/api/v1/strategies', { key: h.keys.viewer });

      expect(response.status).toBe(200);
      expect(server.name).toBe('GET /api/v1/strategies');
      expect(server.attributes['http.route']).toBe('/api/v1/strategies');
    });
  });

  describe('When no route matches the path', () => {
    it('should keep the bare method as the name, without http.route', async () => {
      const { response, server } = await traced('GET', '/api/v1/no-such-thing/123', { key: h.keys.viewer });

      expect(response.status).toBe(404);
      expect(server.name).toBe('GET');
      expect(server.attributes['http.route']).toBeUndefined();
    });
  });

  describe('When the caller sends a traceparent and the route asks a service over NATS', () => {
    it("should continue the caller's trace through the gateway's rpc to the gate", async () => {
      const { response, caller, server, inTrace } = await traced('POST', '/api/v1/engine/check', {
        key: h.keys.engine,
        body: { engineId: 'engine-a', strategyId: 's1', action: { kind: 'order.place', intent: 'open' } },
      });

      expect(response.status).toBe(200);
      expect(server.parentSpanContext?.spanId).toBe(caller.spanId);
      const rpc = (kind: SpanKind) =>
        waitFor(() => inTrace().find((s) => s.name === 'rpc bifrost.rpc.gate.check' && s.kind === kind), {
          what: `rpc span of kind ${kind}`,
        });
      const client = await rpc(SpanKind.CLIENT);
      const gate = await rpc(SpanKind.SERVER);
      expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
      expect(gate.parentSpanContext?.spanId).toBe(client.spanContext().spanId);
    });
  });
});

function isHttpServerSpan(span: ReadableSpan): boolean {
  return (
    span.kind === SpanKind.SERVER && span.instrumentationScope.name === '@opentelemetry/instrumentation-http'
  );
}
