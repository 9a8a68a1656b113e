import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { Envelope } from '@bifrost/contracts';
import { consumerRoute } from '@bifrost/messaging';
import { HeartbeatMonitor, heartbeatOf } from './heartbeat-monitor.service';

/** Engine heartbeats (`bifrost.ingest.heartbeat.<engineId>`) feed the dead-man switch. */
@Controller()
export class HeartbeatsConsumer {
  constructor(@Inject(HeartbeatMonitor) private readonly monitor: HeartbeatMonitor) {}

  @EventPattern(
    'bifrost.ingest.heartbeat.*',
    consumerRoute({ stream: 'ingest', purpose: 'heartbeats', maxDeliver: 5 }),
  )
  async onHeartbeat(@Payload() envelope: Envelope): Promise<void> {
    const { engineId, signingOff } = heartbeatOf(envelope);
    await this.monitor.onHeartbeat(envelope, engineId, signingOff);
  }
}
