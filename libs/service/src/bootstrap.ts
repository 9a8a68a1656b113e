import { Module, type DynamicModule, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyServerOptions } from 'fastify';
import type { CommonConfig } from '@bifrost/config';
import {
  JetStreamTransport,
  Messaging,
  MessagingModule,
  PassThroughRpcFilter,
  RPC_OBSERVER,
  streamSettingsOf,
  uuidv7,
  type RpcObserver,
} from '@bifrost/messaging';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  HealthRegistry,
  METRICS_REGISTRY,
  ObservabilityModule,
  PinoNestLogger,
  createLogger,
  type Logger,
} from '@bifrost/observability';
import type { Catalogue } from '@bifrost/contracts';
import { instrumentHttp } from './http-metrics';
import { instrumentRpc } from './rpc-metrics';
import { pingController } from './ping.controller';
import { stringifyJson } from './raw-json';
import { useJsonBodies } from './json-body';
import { SERVICE_LOGGER, ServiceInfo } from './service-info';
import { recordStart } from './start-history';

export interface ServiceDefinition<C extends CommonConfig> {
  /** Service name: queue group, consumer prefix, `source` of its envelopes, metrics label. */
  readonly name: string;
  readonly version?: string;
  /** The service's own modules, controllers and providers, given its validated config. */
  readonly app: (config: C) => Pick<ModuleMetadata, 'imports' | 'controllers' | 'providers'>;
  readonly catalogue?: Catalogue;
  /**
   * Fastify's options the service sets from its config: handlers of errors met before any route
   * (the gateway answers them as problem documents), which proxies to trust for the client address,
   * how long a client may take to send a request.
   */
  readonly http?: (
    config: C,
  ) => Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler' | 'trustProxy' | 'requestTimeout'>;
  /** CORS for browsers on other origins, from the config; undefined: none (the gateway's `GATEWAY_CORS_ALLOWED_ORIGINS`). */
  readonly cors?: (config: C) => Parameters<NestFastifyApplication['enableCors']>[0] | undefined;
}

export interface RunningService {
  readonly app: INestApplication;
  readonly info: ServiceInfo;
  readonly logger: Logger;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts one Bifrost service: NATS (streams provisioned), HTTP health and metrics, the JetStream
 * transport for its handlers, the ping route, and the start record. Resolves once it serves.
 */
export async function startService<C extends CommonConfig>(
  definition: ServiceDefinition<C>,
  config: C,
  options: { host?: string; logger?: Logger } = {},
): Promise<RunningService> {
  const logger = options.logger ?? createLogger({ service: definition.name, level: config.LOG_LEVEL });
  const info = new ServiceInfo(
    definition.name,
    uuidv7().slice(-12),
    definition.version ?? '0.1.0',
    new Date().toISOString(),
  );
  const own = definition.app(config);

  @Module({
    imports: [
      ObservabilityModule.forRoot({ service: definition.name }),
      MessagingModule.forRoot({
        url: config.NATS_URL,
        service: definition.name,
        instanceId: info.instanceId,
        namespace: config.BIFROST_NAMESPACE,
        streams: streamSettingsOf(config),
        ...(definition.catalogue ? { catalogue: definition.catalogue } : {}),
      }),
      ...(own.imports ?? []),
    ],
    controllers: [pingController(definition.name), ...(own.controllers ?? [])],
    providers: [
      { provide: ServiceInfo, useValue: info },
      { provide: SERVICE_LOGGER, useValue: logger },
      { provide: APP_FILTER, useClass: PassThroughRpcFilter },
      // One set of `bifrost_rpc_*` series for every route: the transport's, and any served by hand.
      { provide: RPC_OBSERVER, useFactory: instrumentRpc, inject: [METRICS_REGISTRY] },
      ...(own.providers ?? []),
    ],
  })
  class ServiceRootModule {}

  const app = await NestFactory.create<NestFastifyApplication>(
    ServiceRootModule as unknown as DynamicModule,
    // Path parameters are checked by the routes' schemas: an over-long id gets their 400, not
    // Fastify's "no such route" 404 past its default of 100 characters. 16 KiB is Node's limit on
    // the request head, so no path Node accepts has a longer parameter.
    new FastifyAdapter({ ...definition.http?.(config), routerOptions: { maxParamLength: 16_384 } }),
    {
      logger: new PinoNestLogger(logger),
      abortOnError: false,
      // Bodies are JSON only: Nest's form parser and Fastify's text/plain parser are left out, so
      // any other content type is a 415, not a body that then fails the schema as a string.
      bodyParser: false,
    },
  );
  const cors = definition.cors?.(config);
  if (cors) app.enableCors(cors);
  useJsonBodies(app.getHttpAdapter().getInstance());
  instrumentHttp(app.getHttpAdapter().getInstance(), app.get<Registry>(METRICS_REGISTRY));
  // Replies are JSON.stringify, except that raw JSON texts (RawJson) are written as they are.
  app.getHttpAdapter().getInstance().setReplySerializer(stringifyJson);
  const messaging = app.get(Messaging);
  app.get(HealthRegistry).register({ name: 'nats', check: () => messaging.check() });

  const started = { done: false };
  app.get(HealthRegistry).register({
    name: 'startup',
    check: () => (started.done ? { ok: true } : { ok: false, detail: 'starting' }),
  });
  const consumerLag = new Gauge({
    name: 'bifrost_consumer_pending_messages',
    help: 'Messages of the stream still waiting for this durable consumer (its lag), as of its last delivery',
    labelNames: ['consumer'],
    registers: [app.get<Registry>(METRICS_REGISTRY)],
  });
  const consumerParked = new Counter({
    name: 'bifrost_consumer_parked_messages_total',
    help: 'Messages this durable consumer parked on the DLQ (bifrost.dlq.<service>)',
    labelNames: ['consumer'],
    registers: [app.get<Registry>(METRICS_REGISTRY)],
  });
  const transport = new JetStreamTransport(
    messaging,
    logger,
    {
      pending: (consumer, pending) => {
        consumerLag.set({ consumer }, pending);
        consumerParked.inc({ consumer }, 0); // the series exists from the start: increase() sees the first
      },
      parked: (consumer) => consumerParked.inc({ consumer }),
    },
    app.get<RpcObserver>(RPC_OBSERVER),
  );
  app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
  // Start-up hooks first (state rebuilt from snapshot and tail, the risk desk loaded and leading or
  // standing by), then the NATS routes and durable consumers: a replica joins its queue groups only
  // once it can answer, so no request waits on one still rebuilding, or is refused by it.
  // The transport first: requests and messages already taken are answered while the rest of the
  // service (in-memory state following the stream, the risk desk, …) still runs; Nest would run
  // the services' shutdown hooks before closing it.
  const close = async () => {
    await transport.close();
    await app.close();
  };
  try {
    await app.init();
    await app.startAllMicroservices();
    await app.listen({ port: config.PORT, host: options.host ?? '0.0.0.0' });
    info.starts = await recordStart(messaging, info);
  } catch (error) {
    // A start that fails (its port taken, say) must not leave its routes and consumers serving in
    // this process, with no handle left to close them.
    await close().catch((closeError: unknown) =>
      logger.warn({ err: closeError }, 'could not close what a failed start left running'),
    );
    throw error;
  }
  started.done = true;
  info.served();
  const url = await app.getUrl();
  logger.info({ instanceId: info.instanceId, starts: info.starts, url }, `${definition.name} started`);
  return { app, info, logger, url, close };
}
