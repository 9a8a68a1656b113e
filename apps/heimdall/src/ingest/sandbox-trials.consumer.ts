import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { DataOf, Envelope, SandboxTrialReported } from '@bifrost/contracts';
import { consumerRoute, engineFact } from '@bifrost/messaging';
import { HeimdallCommands } from '../commands/heimdall-commands.service';

/**
 * Sandbox trials engines report (`bifrost.ingest.sandbox.<engineId>`) feed their domain's scorecard.
 * A repeated trial id changes nothing, so redelivery is harmless; a bad fact is parked on the DLQ.
 */
@Controller()
export class SandboxTrialsConsumer {
  constructor(@Inject(HeimdallCommands) private readonly commands: HeimdallCommands) {}

  @EventPattern(
    'bifrost.ingest.sandbox.*',
    // Until applied: a lost failed trial would make its domain's success rate read too high
    // (ConsumerSpec.untilApplied).
    consumerRoute({ stream: 'ingest', purpose: 'sandbox-trials', untilApplied: true }),
  )
  async onTrial(@Payload() envelope: Envelope): Promise<void> {
    const trial = engineFact<DataOf<typeof SandboxTrialReported>>(envelope, 'ingest.SandboxTrialReported');
    await this.commands.recordTrial(
      {
        engineId: trial.engineId,
        domain: trial.domain,
        trialId: trial.trialId,
        success: trial.success,
        ...(trial.recommendationId === undefined ? {} : { recommendationId: trial.recommendationId }),
        ...(trial.confidence === undefined ? {} : { confidence: trial.confidence }),
        ...(trial.detail === undefined ? {} : { detail: trial.detail }),
        // Capped at now, as the gateway caps Occurred-At: an engine's clock ahead (or a typo'd
        // year 9999) must not put a trial on a day that has not come.
        occurredAt: earlier(envelope.occurredAt, new Date().toISOString()),
      },
      envelope.actor,
      {
        causationId: envelope.id,
        ...(envelope.correlationId ? { correlationId: envelope.correlationId } : {}),
      },
    );
  }
}

/** The earlier of two UTC timestamps in the same spelling (they sort as text). */
function earlier(a: string, b: string): string {
  return a < b ? a : b;
}
