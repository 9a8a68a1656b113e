import { Type } from '@sinclair/typebox';
import { defineMessage } from '../registry';
import { EntityId, Money } from '../verdict';
import { FactKey, idPattern } from '../schema';

/**
 * Facts engines report on `bifrost.ingest.<kind>.<engineId>` (stream BIFROST_INGEST). The SDK and
 * the gateway's engine endpoints publish them; the owning services consume them durably.
 */
export const OutcomeReported = defineMessage({
  type: 'ingest.OutcomeReported',
  version: 1,
  kind: 'ingest',
  producer: 'engines (SDK, api-gateway)',
  consumers: ['gate'],
  subject: 'bifrost.ingest.outcome.{engineId}',
  description:
    'The result of an action a strategy took: profit or loss in minor units. Feeds maturity, health and drift.',
  data: Type.Object(
    {
      engineId: EntityId,
      strategyId: EntityId,
      /** Unique per strategy: a repeated outcome id is recorded once. */
      outcomeId: FactKey,
      pnl: Money,
      /** The decision this outcome belongs to, when known. */
      decisionId: Type.Optional(Type.String({ maxLength: 100 })),
    },
    { additionalProperties: false },
  ),
});

export const KpiReported = defineMessage({
  type: 'ingest.KpiReported',
  version: 1,
  kind: 'ingest',
  producer: 'engines (SDK, api-gateway)',
  consumers: ['tripwire'],
  subject: 'bifrost.ingest.kpi.{engineId}',
  description:
    'One business KPI event (a contract signed or not, an offer accepted or not …): feeds the regression tripwire of its (domain, metric).',
  data: Type.Object(
    {
      engineId: EntityId,
      domain: EntityId,
      metric: Type.String({ pattern: idPattern('^[a-z][a-z0-9_]{0,63}$') }),
      success: Type.Boolean(),
      value: Type.Optional(Type.Number()),
    },
    { additionalProperties: false },
  ),
});

export const ingestMessages = [OutcomeReported, KpiReported];
