import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { DataOf, Envelope, KpiReported } from '@bifrost/contracts';
import { consumerRoute, engineFact } from '@bifrost/messaging';
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
    const kpi = engineFact<DataOf<typeof KpiReported>>(envelope, 'ingest.KpiReported');
    const outcome = await this.commands.recordKpi(kpi, envelope.id, envelope.actor, {
      causationId: envelope.id,
      ...(envelope.correlationId ? { correlationId: envelope.correlationId } : {}),
    });
    this.metrics.kpi(outcome);
  }
}
