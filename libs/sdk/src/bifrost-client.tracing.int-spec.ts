import { SpanKind, trace, type SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the gateway is instrumented as in production
import { httpInstrumentation } from '@bifrost/observability';
import { instrumentCoreModules, recordSpans, waitFor } from '@bifrost/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the SDK's specs run the real services
import { GateConfig, gateService } from '../../../apps/gate/src/gate.service';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the SDK's specs run the real services
import {
  peer,
  startGatewayStack,
  type GatewayStack,
} from '../../../apps/api-gateway/src/testing/gateway.fixtures';
import { createClient, type BifrostClient } from './bifrost.client';
import type { ClientOptions } from './sdk.types';

/** The engine's own tracing: a provider and W3C propagator of its process (here, the test's). */
const exporter = recordSpans();
const uninstrument = instrumentCoreModules(httpInstrumentation());
const engineTracer = trace.getTracer('engine');

describe('SDK trace context', () => {
  let h: GatewayStack<'gate'>;
  const clients: BifrostClient[] = [];

  beforeAll(async () => {
    h = await startGatewayStack('sdktrace', {
      engineId: 'e1',
      peers: { gate: peer(GateConfig, gateService) },
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await h?.close();
    uninstrument();
  });

  const transports: Record<'NATS' | 'HTTP', () => Partial<ClientOptions>> = {
    NATS: () => ({ natsUrl: h.ns.natsUrl, namespace: h.ns.namespace }),
    HTTP: () => ({ gatewayUrl: h.gateway.url, apiKey: h.keys.engine }),
  };

  describe.each(Object.keys(transports) as (keyof typeof transports)[])('over %s', (transport) => {
    const client = (): BifrostClient => {
      const created = createClient({ engineId: 'e1', heartbeatIntervalMs: 0, ...transports[transport]() });
      clients.push(created);
      return created;
    };
    const check = (sdk: BifrostClient) =>
      sdk.check({ strategyId: 's1', action: { kind: 'order.place', intent: 'open' } });
    /** The first finished span that `matches`, in trace `traceId` if given; waits for it. */
    const span = (matches: (s: ReadableSpan) => boolean, traceId?: string) =>
      waitFor(
        () =>
          exporter
            .getFinishedSpans()
            .find((s) => matches(s) && (traceId === undefined || s.spanContext().traceId === traceId)),
        { what: `a span in trace ${traceId ?? 'any'}` },
      );
    // Over NATS the SDK's request reaches the gate; over HTTP the gateway's server span comes first.
    const firstBifrostSpan = transport === 'NATS' ? isGateCheckSpan : isHttpServerSpan;

    describe('When the engine checks inside a span of its own', () => {
      it("should put the gate's span in the engine's trace", async () => {
        const sdk = client();
        await sdk.whenConnected(5_000);

        const engine = await inEngineSpan(async () => {
          const verdict = await check(sdk);
          expect(verdict.failClosed).toBe(false);
        });

        const first = await span(firstBifrostSpan, engine.traceId);
        expect(first.parentSpanContext?.spanId).toBe(engine.spanId);
        await expect(span(isGateCheckSpan, engine.traceId)).resolves.toBeDefined();
      });
    });

    describe('When a fact recorded inside a span is sent after it ended', () => {
      it("should carry the trace it was recorded in to the gate's consumer", async () => {
        // Not connected yet: the fact waits in the buffer and is sent on connect, from no span.
        const sdk = client();

        const engine = await inEngineSpan(async () => {
          sdk.recordOutcome({
            strategyId: 's1',
            outcomeId: `o-${transport}`,
            pnl: { amount: 10, currency: 'USD' },
          });
        });

        await sdk.whenConnected(5_000);
        const consumed = await span((s) => s.name === 'consume bifrost.ingest.outcome.e1', engine.traceId);
        expect(consumed.kind).toBe(SpanKind.CONSUMER);
      });
    });

    describe('When the engine checks outside any span', () => {
      it('should answer, the gate starting a trace of its own', async () => {
        const sdk = client();
        await sdk.whenConnected(5_000);
        exporter.reset();

        const verdict = await check(sdk);

        expect(verdict.failClosed).toBe(false);
        const first = await span(firstBifrostSpan);
        expect(first.parentSpanContext).toBeUndefined();
        await expect(span(isGateCheckSpan, first.spanContext().traceId)).resolves.toBeDefined();
      });
    });
  });

  describe('When the client is created inside a span', () => {
    it("should send its timed heartbeats outside that span's trace", async () => {
      exporter.reset();
      let sdk: BifrostClient | undefined;
      const engine = await inEngineSpan(async () => {
        sdk = createClient({ engineId: 'e1', gatewayUrl: h.gateway.url, apiKey: h.keys.engine });
        clients.push(sdk);
      });

      // The heartbeat on connect, from the connection the client started inside the span.
      await sdk?.whenConnected(5_000);
      const heartbeat = await waitFor(() =>
        exporter.getFinishedSpans().find((s) => isHttpServerSpan(s) && s.name.endsWith('/heartbeat')),
      );
      expect(heartbeat.spanContext().traceId).not.toBe(engine.traceId);
      expect(heartbeat.parentSpanContext).toBeUndefined();
    });
  });
});

/** Runs `fn` in an active span of the engine's tracer; returns that span's context once it ended. */
async function inEngineSpan(fn: () => Promise<void>): Promise<SpanContext> {
  return engineTracer.startActiveSpan('engine acts', async (span) => {
    try {
      await fn();
    } finally {
      span.end();
    }
    return span.spanContext();
  });
}

function isGateCheckSpan(span: ReadableSpan): boolean {
  return span.name === 'rpc bifrost.rpc.gate.check' && span.kind === SpanKind.SERVER;
}

function isHttpServerSpan(span: ReadableSpan): boolean {
  return (
    span.kind === SpanKind.SERVER && span.instrumentationScope.name === '@opentelemetry/instrumentation-http'
  );
}
