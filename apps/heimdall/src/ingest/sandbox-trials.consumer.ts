import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { DataOf, Envelope, SandboxTrialReported } from '@bifrost/contracts';
import { ValidationError } from '@bifrost/event-sourcing';
import { consumerRoute } from '@bifrost/messaging';
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
    consumerRoute({ stream: 'ingest', purpose: 'sandbox-trials', maxDeliver: 5 }),
  )
  async onTrial(@Payload() envelope: Envelope): Promise<void> {
    if (envelope.type !== 'ingest.SandboxTrialReported') {
      throw new ValidationError(`unexpected ${envelope.type} on the sandbox subject`, {
        code: 'INGEST.UNEXPECTED_TYPE',
      });
    }
    const trial = envelope.data as DataOf<typeof SandboxTrialReported>;
    if (envelope.actor.kind === 'engine' && envelope.actor.id !== trial.engineId) {
      throw new ValidationError(`engine ${envelope.actor.id} reported a trial for ${trial.engineId}`, {
        code: 'INGEST.FOREIGN_ENGINE',
      });
    }
    await this.commands.recordTrial(
      {
        engineId: trial.engineId,
        domain: trial.domain,
        trialId: trial.trialId,
        success: trial.success,
        ...(trial.recommendationId === undefined ? {} : { recommendationId: trial.recommendationId }),
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
