export * from './health';
export * from './health.controller';
export * from './http-route';
export * from './logger';
export * from './metrics';
export * from './observability.module';
export * from './telemetry';
export * from './tokens';
