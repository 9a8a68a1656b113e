import { Controller, Inject, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { DataOf, Envelope, TripwireTriggered } from '@bifrost/contracts';
import { NotFoundError } from '@bifrost/event-sourcing';
import { consumerRoute } from '@bifrost/messaging';
import { RiskDesk } from '../ledger/risk-desk';

type TriggeredData = DataOf<typeof TripwireTriggered>;

/** Tripwire THROTTLE → the engine's policy is throttled until an operator lifts it. */
@Controller()
export class TripwireConsumer {
  private readonly log = new Logger('TripwireConsumer');

  constructor(@Inject(RiskDesk) private readonly desk: RiskDesk) {}

  @EventPattern(
    'bifrost.evt.tripwire.>',
    // A throttle that could not be stored for a transient reason is retried until it is, never
    // parked: a parked one would leave the engine's caps open. Retried at most every 2 s.
    consumerRoute({ stream: 'events', purpose: 'tripwire', untilApplied: true }),
  )
  async onTripwireEvent(@Payload() envelope: Envelope): Promise<void> {
    if (envelope.type !== 'tripwire.TripwireTriggered') return;
    const data = envelope.data as TriggeredData;
    // KILL_SWITCH is the gate's to enforce; risk-guard only throttles.
    if (data.action !== 'THROTTLE') return;
    try {
      await this.desk.execute({
        op: 'policy',
        // Whoever tripped it: the tripwire for a KPI, the operator whose evaluate did (DESIGN §7).
        actor: envelope.actor,
        command: {
          type: 'ThrottlePolicy',
          data: {
            policyId: data.engineId,
            now: new Date().toISOString(),
            cause: {
              kind: 'tripwire',
              id: envelope.id,
              reason: data.reason ?? `tripwire ${data.policyId} fired`,
            },
          },
        },
      });
    } catch (error) {
      // An engine without a risk policy is denied anyway: there is nothing to throttle.
      if (!(error instanceof NotFoundError) && !isRemote(error, 'RISK.POLICY_UNKNOWN')) throw error;
      this.log.warn(`tripwire THROTTLE for ${data.engineId}, which has no risk policy`);
    }
  }
}

function isRemote(error: unknown, code: string): boolean {
  return (error as { code?: unknown }).code === code;
}
