import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Type, type Static } from '@sinclair/typebox';
import { type Registry } from 'prom-client';
import { CommonConfigProperties } from '@bifrost/config';
import { Messaging } from '@bifrost/messaging';
import {
  HealthRegistry,
  METRICS_REGISTRY,
  postgresHealthIndicator,
  type Logger,
} from '@bifrost/observability';
import { SERVICE_LOGGER, type ServiceDefinition } from '@bifrost/service';
import { DataSource } from 'typeorm';
import { openProjectorDatabase } from './persistence';
import { Projector } from './projector/projector';
import { ProjectorMetrics } from './projector/projector.metrics';

export const ProjectorConfig = Type.Object({
  ...CommonConfigProperties,
  DATABASE_URL: Type.String({ minLength: 1 }),
  PROJECTOR_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 5000, default: 1000 }),
  /** How often a standby instance tries to become the writer. */
  PROJECTOR_LOCK_POLL_MS: Type.Integer({ minimum: 10, default: 1000 }),
});
export type ProjectorConfig = Static<typeof ProjectorConfig>;

const PROJECTOR_CONFIG = 'bifrost:PROJECTOR_CONFIG';

@Injectable()
class ProjectorLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly projector: Projector;

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(SERVICE_LOGGER) logger: Logger,
    @Inject(PROJECTOR_CONFIG) config: ProjectorConfig,
  ) {
    this.projector = new Projector({
      js: messaging.js,
      jsm: messaging.jsm,
      naming: messaging.naming,
      catalogue: messaging.catalogue,
      dataSource,
      logger,
      metrics: new ProjectorMetrics(registry),
      batchSize: config.PROJECTOR_BATCH_SIZE,
      lockPollMs: config.PROJECTOR_LOCK_POLL_MS,
    });
  }

  onApplicationBootstrap(): void {
    this.health.register(postgresHealthIndicator(this.dataSource));
    this.health.register({ name: 'projector', check: () => this.projector.readiness() });
    // In the background: a standby waits for the writer lock while serving health and metrics.
    this.projector.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.projector.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.dataSource.destroy();
  }
}

/** The projector: read models and the audit log in Postgres (DESIGN §6, docs/projector.md). */
export const projectorService: ServiceDefinition<ProjectorConfig> = {
  name: 'projector',
  version: '0.1.0',
  app: (config) => ({
    providers: [
      { provide: PROJECTOR_CONFIG, useValue: config },
      { provide: DataSource, useFactory: () => openProjectorDatabase(config.DATABASE_URL) },
      ProjectorLifecycle,
    ],
  }),
};
