import type { CommonConfig } from '@bifrost/config';
import type * as Bootstrap from './bootstrap';

export * from './raw-json';
export * from './run';
export * from './service-info';
export type { ServiceDefinition, RunningService } from './bootstrap';

/**
 * Starts a service in this process (tests, embedding). Required lazily so that importing this
 * package does not load the framework before `runService` has set up tracing.
 */
export function startService<C extends CommonConfig>(
  definition: Bootstrap.ServiceDefinition<C>,
  config: C,
  options?: Parameters<typeof Bootstrap.startService>[2],
): Promise<Bootstrap.RunningService> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a deliberate late require
  const bootstrap = require('./bootstrap') as typeof Bootstrap;
  return bootstrap.startService(definition, config, options);
}
