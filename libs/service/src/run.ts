import { loadConfig, ConfigError, type CommonConfig } from '@bifrost/config';
import { createLogger, startTelemetry } from '@bifrost/observability';
import type { TObject, Static } from '@sinclair/typebox';
import type { ServiceDefinition } from './bootstrap';
import type * as Bootstrap from './bootstrap';

/**
 * The whole of a service's `main.ts`: validate the environment (one error listing every problem),
 * start tracing before the framework loads so its modules get instrumented, start the service,
 * and shut down gracefully on SIGTERM/SIGINT within `SHUTDOWN_TIMEOUT_MS`.
 */
export async function runService<S extends TObject>(
  schema: S,
  definition: ServiceDefinition<Static<S> & CommonConfig>,
): Promise<void> {
  let config: Static<S> & CommonConfig;
  try {
    config = loadConfig(schema) as Static<S> & CommonConfig;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${definition.name}: invalid configuration\n${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ service: definition.name, level: config.LOG_LEVEL });
  const telemetry = startTelemetry({
    serviceName: `bifrost-${definition.name}`,
    ...(definition.version ? { serviceVersion: definition.version } : {}),
    ...(config.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
    // Spans lost are logged, not silent; `heldBack`: failures since the last line (one a minute).
    onError: (error, heldBack) => logger.warn({ err: error, heldBack }, 'trace export failed'),
  });
  // Loaded only now, after tracing is set up, so http/pg are patched when they are first required.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a deliberate late require
  const { startService } = require('./bootstrap') as typeof Bootstrap;

  // A signal during start-up is honoured once the service is up, never lost. Listening for every
  // signal, not once: a repeat (one Ctrl-C reaches a service under npm twice) would otherwise get
  // Node's default, killing the service in the middle of its drain.
  // No signal ends the process by itself now, so a start that never ends (NATS unreachable: the
  // first connect waits for it) is given up SHUTDOWN_TIMEOUT_MS after the first one.
  let signalled: string | undefined;
  let giveUp: NodeJS.Timeout | undefined;
  let stop = (signal: string) => {
    if (signalled !== undefined) return;
    signalled = signal;
    giveUp = setTimeout(() => {
      process.stderr.write(
        `${definition.name}: ${signal} while starting, and the start did not end within ${config.SHUTDOWN_TIMEOUT_MS} ms; exiting\n`,
      );
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    giveUp.unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  // A fault nothing caught ends the process (Node's default), but as the service's last log line,
  // from the first hook on.
  const fatal = (what: string) => (error: unknown) => {
    logger.fatal({ err: error }, `${what}: exiting`);
    process.exit(1);
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled promise rejection'));

  let service: Awaited<ReturnType<typeof startService>>;
  try {
    service = await startService(definition, config, { logger });
  } catch (error) {
    // A service that checks more of its configuration while starting reports it as loading does.
    process.stderr.write(
      error instanceof ConfigError
        ? `${definition.name}: invalid configuration\n${error.message}\n`
        : `${definition.name}: failed to start: ${(error as Error).stack ?? String(error)}\n`,
    );
    process.exit(1);
  }
  // Up: the shutdown keeps its own time.
  clearTimeout(giveUp);
  let stopping = false;
  stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void shutdown(signal);
  };
  const shutdown = async (signal: string) => {
    service.logger.info(
      { signal },
      'shutting down: no new requests, draining NATS, finishing work in flight',
    );
    const force = setTimeout(() => {
      service.logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    await service.close();
    await telemetry.shutdown();
    service.logger.info('stopped');
    process.exit(0);
  };
  if (signalled) stop(signalled);
}
