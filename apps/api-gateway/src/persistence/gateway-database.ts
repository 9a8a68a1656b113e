import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { HealthRegistry, postgresHealthIndicator } from '@bifrost/observability';
import { openDataSource } from '@bifrost/persistence';
import { ApiKeyRow, RefreshTokenRow } from '../auth/api-key.entity';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { GatewayAuth1732400000000 } from './1732400000000-gateway-auth.migration';
import { BootstrapKeyCreator1732400000100 } from './1732400000100-bootstrap-key-creator.migration';
import { RefreshSessionStart1732400000200 } from './1732400000200-refresh-session-start.migration';

export const gatewayEntities = [ApiKeyRow, RefreshTokenRow];
export const gatewayMigrations = [
  GatewayAuth1732400000000,
  BootstrapKeyCreator1732400000100,
  RefreshSessionStart1732400000200,
];

/** The DataSource token: gateway tables (read-write) and the projector's read models (read-only). */
export const GATEWAY_DB = 'api-gateway:DB';

export const gatewayDatabaseProvider = {
  provide: GATEWAY_DB,
  inject: [GATEWAY_CONFIG],
  useFactory: (config: GatewayConfig): Promise<DataSource> =>
    openDataSource({
      url: config.DATABASE_URL,
      entities: gatewayEntities,
      migrations: gatewayMigrations,
      applicationName: 'api-gateway',
    }),
};

/** Ready only while Postgres answers (keys and reads need it); closes the pool at shutdown. */
@Injectable()
export class GatewayDatabaseLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(GATEWAY_DB) private readonly db: DataSource,
    @Inject(HealthRegistry) health: HealthRegistry,
  ) {
    health.register(postgresHealthIndicator(db));
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.db.isInitialized) await this.db.destroy();
  }
}
