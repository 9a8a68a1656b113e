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
  /**
   * Receives export failures (collector down…) and other errors of the tracing SDK; pass the
   * service logger. Called for the first at once, then at most once a minute (see
   * {@link throttleErrors}); shutdown's always. Silent when omitted.
   */
  readonly onError?: (error: unknown, heldBack: number) => void;
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
  const errors = throttleErrors(options.onError ?? (() => undefined), TELEMETRY_ERROR_INTERVAL_MS);
  setGlobalErrorHandler((error) => errors.report(error));

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
    shutdown: () => (stopped ??= sdk.shutdown().catch((error: unknown) => errors.report(error, true))),
  };
}

/** A collector that is down fails every batch, one every few seconds: a line a minute is enough. */
const TELEMETRY_ERROR_INTERVAL_MS = 60_000;

/**
 * Passes the first error on at once, then at most one per `intervalMs`, each with how many were
 * held back since the one before. `force` passes it on regardless (the last word, at shutdown).
 */
export function throttleErrors(
  onError: (error: unknown, heldBack: number) => void,
  intervalMs: number,
  now: () => number = Date.now,
): { report(error: unknown, force?: boolean): void } {
  let reportedAt: number | undefined;
  let heldBack = 0;
  return {
    report(error, force = false) {
      const time = now();
      if (!force && reportedAt !== undefined && time - reportedAt < intervalMs) {
        heldBack += 1;
        return;
      }
      reportedAt = time;
      const count = heldBack;
      heldBack = 0;
      onError(error, count);
    },
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
