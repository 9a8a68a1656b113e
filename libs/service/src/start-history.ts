import { ConcurrencyError } from '@bifrost/event-sourcing';
import { createEnvelope, type Messaging } from '@bifrost/messaging';
import type { ServiceInfo } from './service-info';

/**
 * Appends `system.ServiceStarted` to the service's own subject after replaying it, so every start
 * is on record with how many came before. Two instances starting together both get recorded:
 * the loser of the append race replays and appends again.
 */
export async function recordStart(messaging: Messaging, info: ServiceInfo, attempts = 5): Promise<number> {
  const subject = messaging.naming.eventSubject('system', 'service', info.service);
  for (let attempt = 1; ; attempt += 1) {
    const { events, lastSequence } = await messaging.eventStore.read(subject);
    const envelope = createEnvelope({
      type: 'system.ServiceStarted',
      subject,
      source: info.service,
      actor: { kind: 'system', id: `${info.service}/${info.instanceId}` },
      data: {
        service: info.service,
        instanceId: info.instanceId,
        version: info.version,
        previousStarts: events.length,
      },
    });
    try {
      await messaging.eventStore.append(subject, [envelope], lastSequence);
      return events.length + 1;
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= attempts) throw error;
    }
  }
}
