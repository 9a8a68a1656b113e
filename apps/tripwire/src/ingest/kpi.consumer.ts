import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { DataOf, Envelope, KpiReported } from '@bifrost/contracts';
import { consumerRoute, engineFact, type JetStreamContext } from '@bifrost/messaging';
import { TripwireCommands } from '../commands/tripwire-commands.service';
import { TripwireMetrics } from '../metrics/tripwire.metrics';

/**
 * KPI events engines report (`bifrost.ingest.kpi.<engineId>`): each enters its engine's windows of
 * the policy for its (domain, metric) and is evaluated at once. Invalid input is parked on the DLQ;
 * a KPI no policy watches is acknowledged and counted; a redelivered KPI is recorded once, a
 * replayed one too (by its ingest stream sequence, however old).
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
  async onKpi(@Payload() envelope: Envelope, @Ctx() ctx: JetStreamContext): Promise<void> {
    const kpi = engineFact<DataOf<typeof KpiReported>>(envelope, 'ingest.KpiReported');
    // Its stream sequence: a replay of the stream (the durable consumer lost) is recorded once.
    const sequence = ctx.delivery.streamSequence;
    const outcome = await this.commands.recordKpi(kpi, envelope.id, sequence, envelope.actor, {
      causationId: envelope.id,
      ...(envelope.correlationId ? { correlationId: envelope.correlationId } : {}),
    });
    this.metrics.kpi(outcome);
  }
}
