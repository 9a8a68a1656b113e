import { StreamConfig, loadConfig } from '@bifrost/config';
import { Messaging, streamSettingsOf } from '@bifrost/messaging';

/** How long a command waits for NATS before it gives up (a service waits for ever; a command should not). */
const NATS_CONNECT_TIMEOUT_MS = 15_000;

/**
 * The projector's commands' NATS connection: as the projector, with the services' stream settings
 * (or it would find their streams "different" and stop), given up after 15 s.
 */
export async function connectCommand(
  natsUrl: string,
  namespace: string,
  instanceId: string,
): Promise<Messaging> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`NATS at ${natsUrl} did not answer within ${NATS_CONNECT_TIMEOUT_MS / 1000} s`)),
      NATS_CONNECT_TIMEOUT_MS,
    );
  });
  const connecting = Messaging.connect({
    url: natsUrl,
    service: 'projector',
    instanceId,
    namespace,
    streams: streamSettingsOf(loadConfig(StreamConfig, process.env)),
  });
  return Promise.race([connecting, timeout]).finally(() => clearTimeout(timer));
}
