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
import { createEnvelope, Messaging } from '@bifrost/messaging';
import {
  HealthRegistry,
  METRICS_REGISTRY,
  postgresHealthIndicator,
  type Logger,
} from '@bifrost/observability';
import { verifyAuditLog } from '@bifrost/persistence';
import { SERVICE_LOGGER, type ServiceDefinition } from '@bifrost/service';
import { DataSource } from 'typeorm';
import { AuditPins } from './audit/audit-pins';
import { AuditVerification } from './audit/audit-verification';
import { openProjectorDatabase } from './persistence';
import { Projector } from './projector/projector';
import { ProjectorMetrics } from './projector/projector.metrics';

export const ProjectorConfig = Type.Object({
  ...CommonConfigProperties,
  DATABASE_URL: Type.String({ minLength: 1 }),
  PROJECTOR_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 5000, default: 1000 }),
  /** How often a standby instance tries to become the writer. */
  PROJECTOR_LOCK_POLL_MS: Type.Integer({ minimum: 10, default: 1000 }),
  /**
   * How often the writer re-verifies the whole audit log and reports it (`system.AuditChainVerified`,
   * the go-live checklist's `auditChainVerified`); 0 turns it off.
   */
  PROJECTOR_AUDIT_VERIFY_INTERVAL_MS: Type.Integer({ minimum: 0, default: 600_000 }),
});
export type ProjectorConfig = Static<typeof ProjectorConfig>;

const PROJECTOR_CONFIG = 'bifrost:PROJECTOR_CONFIG';

@Injectable()
class ProjectorLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly projector: Projector;
  private readonly verification: AuditVerification;

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(SERVICE_LOGGER) logger: Logger,
    @Inject(PROJECTOR_CONFIG) config: ProjectorConfig,
  ) {
    const metrics = new ProjectorMetrics(registry);
    this.projector = new Projector({
      js: messaging.js,
      jsm: messaging.jsm,
      naming: messaging.naming,
      catalogue: messaging.catalogue,
      dataSource,
      pins: new AuditPins(messaging),
      logger,
      metrics,
      batchSize: config.PROJECTOR_BATCH_SIZE,
      lockPollMs: config.PROJECTOR_LOCK_POLL_MS,
    });
    this.verification = new AuditVerification({
      intervalMs: config.PROJECTOR_AUDIT_VERIFY_INTERVAL_MS,
      isReady: () => this.projector.readiness().ok,
      // Against the newest row this writer stored: read before the run's snapshot, so it is in it.
      verify: () => {
        const pinned = this.projector.pinnedEntry();
        return verifyAuditLog(dataSource, pinned ? { expect: pinned } : {});
      },
      publish: async (data) => {
        await messaging.publisher.publish(
          createEnvelope({
            type: 'system.AuditChainVerified',
            subject: messaging.naming.eventSubject('system', 'audit', data.startedAt.slice(0, 10)),
            source: 'projector',
            actor: { kind: 'system', id: 'projector' },
            data,
          }),
        );
      },
      logger,
      runs: metrics.auditVerifications,
    });
  }

  onApplicationBootstrap(): void {
    this.health.register(postgresHealthIndicator(this.dataSource));
    this.health.register({ name: 'projector', check: () => this.projector.readiness() });
    // In the background: a standby waits for the writer lock while serving health and metrics.
    this.projector.start();
    this.verification.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.verification.stop();
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
