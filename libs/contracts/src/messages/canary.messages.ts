import { Type } from '@sinclair/typebox';
import { defineMessage } from '../registry';
import { EntityId } from '../verdict';

/**
 * What the canary asks of the gate. The canary service (its own issue) publishes these on its
 * probe/heartbeat aggregates; the gate consumes them and acts with the event as cause.
 */
export const CanaryKillSwitchRequested = defineMessage({
  type: 'canary.KillSwitchRequested',
  version: 1,
  kind: 'event',
  producer: 'canary',
  consumers: ['gate', 'projector'],
  subject: 'bifrost.evt.canary.probe.{probeName}',
  description:
    'A probe with action kill_switch reached its failure threshold: the gate engages the kill switch.',
  data: Type.Object(
    {
      probeName: Type.String({ minLength: 1, maxLength: 100 }),
      /** Absent: the global kill switch. */
      engineId: Type.Optional(EntityId),
      mode: Type.Union([Type.Literal('soft'), Type.Literal('hard')]),
      reason: Type.String({ maxLength: 500 }),
      consecutiveFailures: Type.Integer({ minimum: 1 }),
    },
    { additionalProperties: false },
  ),
});

export const CanaryEnginePauseRequested = defineMessage({
  type: 'canary.EnginePauseRequested',
  version: 1,
  kind: 'event',
  producer: 'canary',
  consumers: ['gate', 'projector'],
  subject: 'bifrost.evt.canary.engine.{engineId}',
  description:
    'An engine went silent past its allowed heartbeat gap (dead-man switch), or a pause_engine probe failed.',
  data: Type.Object(
    {
      engineId: EntityId,
      reason: Type.String({ maxLength: 500 }),
    },
    { additionalProperties: false },
  ),
});

export const canaryMessages = [CanaryKillSwitchRequested, CanaryEnginePauseRequested];
