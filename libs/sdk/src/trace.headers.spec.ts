import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { createClient } from './bifrost.client';
import { traceHeaders } from './trace.headers';

describe('traceHeaders', () => {
  describe('When the engine has not set OpenTelemetry up', () => {
    it('should write no header, even inside a span context, and the SDK should register no propagator', async () => {
      const sdk = createClient({
        engineId: 'e1',
        gatewayUrl: 'http://127.0.0.1:9',
        apiKey: 'k',
        heartbeatIntervalMs: 0,
      });
      const inSpan = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
      });

      expect(context.with(inSpan, traceHeaders)).toEqual({});
      expect(propagation.fields()).toEqual([]);
      await sdk.close();
    });
  });
});
