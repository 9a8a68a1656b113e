import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { DataOf, Envelope, OutcomeReported } from '@bifrost/contracts';
import { consumerRoute, engineFact } from '@bifrost/messaging';
import { GateCommands } from '../commands/gate-commands.service';
import { GateState } from '../state/gate-state';

/**
 * Outcomes engines report (`bifrost.ingest.outcome.<engineId>`) feed maturity, health and drift.
 * A repeated outcome id changes nothing, so redelivery is harmless. `ordered`: one outcome in flight
 * across every replica, so a strategy's loss streak and drawdown follow the order they were reported.
 * An outcome of an unknown strategy registers it at L0, up to `maxStrategiesPerEngine` per engine
 * as a check does; beyond, it is refused (GATE.STRATEGY_LIMIT) and parked on the DLQ, to be replayed
 * once an operator registered the strategy (docs/operations.md, "Replay").
 */
@Controller()
export class OutcomesConsumer {
  constructor(
    @Inject(GateCommands) private readonly commands: GateCommands,
    @Inject(GateState) private readonly state: GateState,
  ) {}

  @EventPattern(
    'bifrost.ingest.outcome.*',
    // Until applied: a lost loss could hide a demotion (ConsumerSpec.untilApplied).
    consumerRoute({ stream: 'ingest', purpose: 'outcomes', ordered: true, untilApplied: true }),
  )
  async onOutcome(@Payload() envelope: Envelope): Promise<void> {
    const outcome = engineFact<DataOf<typeof OutcomeReported>>(envelope, 'ingest.OutcomeReported');
    const { engineId, strategyId } = outcome;
    await this.commands.strategy(
      engineId,
      strategyId,
      () => ({
        type: 'RecordOutcome',
        engineId,
        strategyId,
        outcomeId: outcome.outcomeId,
        pnl: outcome.pnl,
        engineStrategies: this.state.strategiesBeforeRegistering(
          this.state.strategies.get(`${engineId}:${strategyId}`).state,
          engineId,
        ),
        now: new Date().toISOString(),
        actor: envelope.actor,
      }),
      envelope.actor,
      {
        causationId: envelope.id,
        ...(envelope.correlationId ? { correlationId: envelope.correlationId } : {}),
      },
    );
  }
}
