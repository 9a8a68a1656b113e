import { context, propagation } from '@opentelemetry/api';

/**
 * The engine's active trace context as headers, written by the propagator the engine registered
 * (W3C `traceparent`, `tracestate`). Without OpenTelemetry set up in the engine's process the API is
 * a no-op and this is empty: the SDK registers no provider or propagator of its own.
 */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}
