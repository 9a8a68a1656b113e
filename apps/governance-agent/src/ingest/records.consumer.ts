import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { CommandReported, DataOf, Envelope, IncidentReported } from '@bifrost/contracts';
import { GOVERNANCE_AGENT } from '@bifrost/domain-governance';
import { consumerRoute, engineFact } from '@bifrost/messaging';
import { GovernanceCommands } from '../commands/governance-commands.service';

/**
 * Command and incident records engines report (`bifrost.ingest.{command,incident}.<engineId>`)
 * become events of the engine's governance aggregate; the breakers are evaluated in the same
 * decision, so a revert to L3 is appended with the record that caused it. A repeated id changes
 * nothing, so redelivery is harmless. A record counts from when the agent received it, not from
 * the engine's clock: a skewed or backdated `occurredAt` cannot move errors out of a breaker's
 * window. The agent acts as itself (the gate refuses phase changes attributed to engines); the
 * record's envelope is the cause.
 */
@Controller()
export class RecordsConsumer {
  constructor(@Inject(GovernanceCommands) private readonly commands: GovernanceCommands) {}

  @EventPattern(
    'bifrost.ingest.command.*',
    // Until applied: a lost record could keep a breaker from tripping (ConsumerSpec.untilApplied).
    consumerRoute({ stream: 'ingest', purpose: 'commands', untilApplied: true }),
  )
  async onCommand(@Payload() envelope: Envelope): Promise<void> {
    const data = engineFact<DataOf<typeof CommandReported>>(envelope, 'ingest.CommandReported');
    // Timed when its turn on the engine comes (under its lock): records stay in stored order.
    await this.commands.engine(
      () => {
        const now = new Date().toISOString();
        return {
          type: 'RecordCommand',
          data: {
            engineId: data.engineId,
            now,
            ingestId: envelope.id,
            record: {
              commandId: data.commandId,
              commandType: data.commandType,
              at: now,
              outcome: data.outcome,
              requiredApproval: data.requiredApproval,
              ...(data.approved === undefined ? {} : { approved: data.approved }),
              ...(data.durationMs === undefined ? {} : { durationMs: data.durationMs }),
            },
          },
        };
      },
      GOVERNANCE_AGENT,
      causation(envelope),
    );
  }

  @EventPattern(
    'bifrost.ingest.incident.*',
    consumerRoute({ stream: 'ingest', purpose: 'incidents', untilApplied: true }),
  )
  async onIncident(@Payload() envelope: Envelope): Promise<void> {
    const data = engineFact<DataOf<typeof IncidentReported>>(envelope, 'ingest.IncidentReported');
    await this.commands.engine(
      () => {
        const now = new Date().toISOString();
        return {
          type: 'RecordIncident',
          data: {
            engineId: data.engineId,
            now,
            ingestId: envelope.id,
            record: {
              incidentId: data.incidentId,
              at: now,
              severity: data.severity,
              ...(data.commandType === undefined ? {} : { commandType: data.commandType }),
              summary: data.summary,
            },
          },
        };
      },
      GOVERNANCE_AGENT,
      causation(envelope),
    );
  }
}

function causation(envelope: Envelope) {
  return {
    causationId: envelope.id,
    ...(envelope.correlationId ? { correlationId: envelope.correlationId } : {}),
  };
}
