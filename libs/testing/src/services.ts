import type { TObject, Static } from '@sinclair/typebox';
import { loadConfig, type CommonConfig } from '@bifrost/config';
import { startService, type RunningService, type ServiceDefinition } from '@bifrost/service';
import { freePort } from './ports';
import type { TestNamespace } from './nats';

/**
 * Starts a Bifrost service in this process inside a test namespace, on a free port of 127.0.0.1,
 * with its config validated exactly as in production. `env` adds or overrides variables.
 */
export async function startTestService<S extends TObject>(
  schema: S,
  definition: ServiceDefinition<Static<S> & CommonConfig>,
  ns: TestNamespace,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const config = loadConfig(schema, {
    NATS_URL: ns.natsUrl,
    BIFROST_NAMESPACE: ns.namespace,
    PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    ...env,
  }) as Static<S> & CommonConfig;
  return startService(definition, config, { host: '127.0.0.1' });
}
