import { setGlobalErrorHandler, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

export interface TelemetryOptions {
  readonly serviceName: string;
  readonly serviceVersion?: string;
  /** Base OTLP/HTTP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`); traces go to `${endpoint}/v1/traces`. Unset = tracing off. */
  readonly otlpEndpoint?: string;
  /** Receives export failures (collector down…); pass the service logger. Silent when omitted. */
  readonly onError?: (error: unknown) => void;
}

export interface Telemetry {
  /** Flushes pending spans and stops the SDK; safe to call more than once; never rejects. */
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry tracing (HTTP and pg auto-instrumentation, W3C trace context).
 *
 * Instrumentation patches modules as they are loaded, so this must run before NestJS, Fastify or
 * `pg` are imported. Static imports are hoisted, hence in `main.ts` load config, start telemetry,
 * and only then import the application dynamically:
 *
 * ```ts
 * const config = loadConfig(GateConfig);
 * const telemetry = startTelemetry({ serviceName: 'gate', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
 * const { bootstrap } = await import('./bootstrap');
 * await bootstrap(config, telemetry); // calls telemetry.shutdown() last on exit
 * ```
 *
 * Without an endpoint nothing is started and the returned handle does nothing.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (options.otlpEndpoint === undefined) return { shutdown: () => Promise.resolve() };
  const onError = options.onError ?? (() => undefined);
  setGlobalErrorHandler(onError);

  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      ...(options.serviceVersion === undefined ? {} : { [ATTR_SERVICE_VERSION]: options.serviceVersion }),
    }),
    traceExporter: new OTLPTraceExporter({ url: tracesUrl(options.otlpEndpoint) }),
    instrumentations: [httpInstrumentation(), new PgInstrumentation({ requireParentSpan: true })],
    textMapPropagator: new W3CTraceContextPropagator(),
    // Logs go to stdout through pino and metrics through Prometheus; without an explicit empty list
    // the SDK would start an OTLP log exporter of its own.
    logRecordProcessors: [],
  });
  sdk.start();

  let stopped: Promise<void> | undefined;
  return {
    // A collector that is down must not turn a graceful shutdown into a failed one.
    shutdown: () => (stopped ??= sdk.shutdown().catch(onError)),
  };
}

/**
 * The HTTP instrumentation as services run it, also for specs. Created enabled, it patches `http`
 * the next time that module is required.
 */
export function httpInstrumentation(): HttpInstrumentation {
  return new HttpInstrumentation({
    // Probes and scrapes would otherwise drown the useful traces.
    ignoreIncomingRequestHook: (request) => /^\/(health\/|metrics\b)/.test(request.url ?? ''),
  });
}

export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}
