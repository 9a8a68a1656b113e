import { type DynamicModule, Module } from '@nestjs/common';
import { type Registry } from 'prom-client';
import { HealthController } from './health.controller';
import { HealthRegistry } from './health';
import { createMetricsRegistry } from './metrics';
import { METRICS_REGISTRY } from './tokens';

export interface ObservabilityModuleOptions {
  readonly service: string;
  /** Defaults to {@link createMetricsRegistry}(service). */
  readonly registry?: Registry;
}

/**
 * Global module serving `/health/live`, `/health/ready` and `/metrics`, and providing
 * {@link HealthRegistry} and the prom-client registry under {@link METRICS_REGISTRY}.
 */
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityModuleOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      global: true,
      controllers: [HealthController],
      providers: [
        HealthRegistry,
        {
          provide: METRICS_REGISTRY,
          useFactory: () => options.registry ?? createMetricsRegistry(options.service),
        },
      ],
      exports: [HealthRegistry, METRICS_REGISTRY],
    };
  }
}
