import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { DataOf, Envelope, HeartbeatReported } from '@bifrost/contracts';
import { ValidationError } from '@bifrost/event-sourcing';
import { consumerRoute } from '@bifrost/messaging';
import { HeartbeatMonitor } from './heartbeat-monitor.service';

/** Engine heartbeats (`bifrost.ingest.heartbeat.<engineId>`) feed the dead-man switch. */
@Controller()
export class HeartbeatsConsumer {
  constructor(@Inject(HeartbeatMonitor) private readonly monitor: HeartbeatMonitor) {}

  @EventPattern(
    'bifrost.ingest.heartbeat.*',
    consumerRoute({ stream: 'ingest', purpose: 'heartbeats', maxDeliver: 5 }),
  )
  async onHeartbeat(@Payload() envelope: Envelope): Promise<void> {
    if (envelope.type !== 'ingest.HeartbeatReported') {
      throw new ValidationError(`unexpected ${envelope.type} on the heartbeat subject`, {
        code: 'INGEST.UNEXPECTED_TYPE',
      });
    }
    const { engineId, signingOff } = envelope.data as DataOf<typeof HeartbeatReported>;
    if (envelope.actor.kind === 'engine' && envelope.actor.id !== engineId) {
      throw new ValidationError(`engine ${envelope.actor.id} sent a heartbeat for ${engineId}`, {
        code: 'INGEST.FOREIGN_ENGINE',
      });
    }
    await this.monitor.onHeartbeat(envelope, engineId, signingOff === true);
  }
}
