import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { DataOf, Envelope, KpiReported } from '@bifrost/contracts';
import { ValidationError } from '@bifrost/event-sourcing';
import { consumerRoute } from '@bifrost/messaging';
import { TripwireCommands } from '../commands/tripwire-commands.service';
import { TripwireMetrics } from '../metrics/tripwire.metrics';

/**
 * KPI events engines report (`bifrost.ingest.kpi.<engineId>`): each enters its engine's windows of
 * the policy for its (domain, metric) and is evaluated at once. Invalid input is parked on the DLQ;
 * a KPI no policy watches is acknowledged and counted; a redelivered KPI is recorded once.
 * `ordered`: one KPI in flight across every instance, so windows fill in the order KPIs arrived.
 */
@Controller()
export class KpiConsumer {
  constructor(
    @Inject(TripwireCommands) private readonly commands: TripwireCommands,
    @Inject(TripwireMetrics) private readonly metrics: TripwireMetrics,
  ) {}

  @EventPattern(
    'bifrost.ingest.kpi.*',
    // Until applied: a lost KPI could hide a regression (ConsumerSpec.untilApplied).
    consumerRoute({ stream: 'ingest', purpose: 'kpis', ordered: true, untilApplied: true }),
  )
  async onKpi(@Payload() envelope: Envelope): Promise<void> {
    if (envelope.type !== 'ingest.KpiReported') {
      throw new ValidationError(`unexpected ${envelope.type} on the kpi subject`, {
        code: 'INGEST.UNEXPECTED_TYPE',
      });
    }
    const kpi = envelope.data as DataOf<typeof KpiReported>;
    if (envelope.actor.kind === 'engine' && envelope.actor.id !== kpi.engineId) {
      throw new ValidationError(`engine ${envelope.actor.id} reported a KPI for ${kpi.engineId}`, {
        code: 'INGEST.FOREIGN_ENGINE',
      });
    }
    const outcome = await this.commands.recordKpi(kpi, envelope.id, envelope.actor, {
      causationId: envelope.id,
      ...(envelope.correlationId ? { correlationId: envelope.correlationId } : {}),
    });
    this.metrics.kpi(outcome);
  }
}
