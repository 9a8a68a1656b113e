import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { DataOf, Envelope, OutcomeReported } from '@bifrost/contracts';
import { ValidationError } from '@bifrost/event-sourcing';
import { consumerRoute } from '@bifrost/messaging';
import { GateCommands } from '../commands/gate-commands.service';

/**
 * Outcomes engines report (`bifrost.ingest.outcome.<engineId>`) feed maturity, health and drift.
 * A repeated outcome id changes nothing, so redelivery is harmless. `ordered`: one outcome in flight
 * across every replica, so a strategy's loss streak and drawdown follow the order they were reported.
 */
@Controller()
export class OutcomesConsumer {
  constructor(@Inject(GateCommands) private readonly commands: GateCommands) {}

  @EventPattern(
    'bifrost.ingest.outcome.*',
    consumerRoute({ stream: 'ingest', purpose: 'outcomes', maxDeliver: 5, ordered: true }),
  )
  async onOutcome(@Payload() envelope: Envelope): Promise<void> {
    if (envelope.type !== 'ingest.OutcomeReported') {
      throw new ValidationError(`unexpected ${envelope.type} on the outcome subject`, {
        code: 'INGEST.UNEXPECTED_TYPE',
      });
    }
    const outcome = envelope.data as DataOf<typeof OutcomeReported>;
    if (envelope.actor.kind === 'engine' && envelope.actor.id !== outcome.engineId) {
      throw new ValidationError(`engine ${envelope.actor.id} reported an outcome for ${outcome.engineId}`, {
        code: 'INGEST.FOREIGN_ENGINE',
      });
    }
    await this.commands.strategy(
      outcome.engineId,
      outcome.strategyId,
      {
        type: 'RecordOutcome',
        engineId: outcome.engineId,
        strategyId: outcome.strategyId,
        outcomeId: outcome.outcomeId,
        pnl: outcome.pnl,
        now: new Date().toISOString(),
        actor: envelope.actor,
      },
      envelope.actor,
      {
        causationId: envelope.id,
        ...(envelope.correlationId ? { correlationId: envelope.correlationId } : {}),
      },
    );
  }
}
