import { Type } from '@sinclair/typebox';
import { defineMessage } from '../registry';
import { EntityId } from '../verdict';

export const AUTONOMY_PHASES = ['L3', 'L3+', 'L4', 'L4+', 'L5'] as const;

/** The governance agent's phase for an engine; the gate enforces its command whitelist. */
export const GovernancePhaseChanged = defineMessage({
  type: 'governance.PhaseChanged',
  version: 1,
  kind: 'event',
  producer: 'governance-agent',
  consumers: ['gate', 'projector'],
  subject: 'bifrost.evt.governance.engine.{engineId}',
  description:
    'An engine entered an autonomy phase (approved proposal, breaker revert, or initial phase), with the command types it may run without approval.',
  data: Type.Object(
    {
      engineId: EntityId,
      phase: Type.Union(AUTONOMY_PHASES.map((p) => Type.Literal(p))),
      whitelist: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 500 }),
      reason: Type.String({ maxLength: 500 }),
    },
    { additionalProperties: false },
  ),
});

export const governanceMessages = [GovernancePhaseChanged];
