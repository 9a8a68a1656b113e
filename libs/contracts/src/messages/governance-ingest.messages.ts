import { Type } from '@sinclair/typebox';
import { defineMessage } from '../registry';
import { EntityId } from '../verdict';
import { FactKey, literals, idPattern } from '../schema';

/** How a command an engine ran ended. */
export const COMMAND_OUTCOMES = ['success', 'error', 'rolled_back'] as const;
export type CommandOutcome = (typeof COMMAND_OUTCOMES)[number];

/** Incident severities, least severe first (the order `maxSeverity` uses). */
export const INCIDENT_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

/** A command type as engines name it (`SET_POWER`, `COOLING_CYCLE`, `order.place`). */
export const CommandType = Type.String({ pattern: idPattern('^[A-Za-z][A-Za-z0-9_.:-]{0,99}$') });

/**
 * One command an engine ran and how it ended. The governance agent derives success, error,
 * rollback and approval rates from these (readiness, circuit breakers); the time of the record is
 * when the agent received it, not the envelope's `occurredAt` (an engine's clock does not place
 * its records in the windows).
 */
export const CommandReported = defineMessage({
  type: 'ingest.CommandReported',
  version: 1,
  kind: 'ingest',
  producer: 'engines (SDK, api-gateway)',
  consumers: ['governance-agent'],
  subject: 'bifrost.ingest.command.{engineId}',
  description:
    'A command the engine executed (type, outcome, whether it needed and got approval): feeds the autonomy metrics and circuit breakers.',
  data: Type.Object(
    {
      engineId: EntityId,
      /** Unique per engine: a repeated command id is counted once. */
      commandId: FactKey,
      commandType: CommandType,
      outcome: literals(COMMAND_OUTCOMES),
      /** The command was not whitelisted for the engine's phase, so it waited for a human. */
      requiredApproval: Type.Boolean(),
      /** For commands that required approval: whether the human approved it. */
      approved: Type.Optional(Type.Boolean()),
      durationMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
    },
    { additionalProperties: false },
  ),
});

export const IncidentReported = defineMessage({
  type: 'ingest.IncidentReported',
  version: 1,
  kind: 'ingest',
  producer: 'engines (SDK, api-gateway)',
  consumers: ['governance-agent'],
  subject: 'bifrost.ingest.incident.{engineId}',
  description:
    'An incident in an engine\'s operation, optionally caused by a command type: feeds the "critical incident" circuit breaker and the readiness checklist.',
  data: Type.Object(
    {
      engineId: EntityId,
      /** Unique per engine: a repeated incident id is counted once. */
      incidentId: FactKey,
      severity: literals(INCIDENT_SEVERITIES),
      /** The command type whose autonomous execution caused it, when known. */
      commandType: Type.Optional(CommandType),
      summary: Type.String({ minLength: 1, maxLength: 500 }),
    },
    { additionalProperties: false },
  ),
});

export const governanceIngestMessages = [CommandReported, IncidentReported];
