import { type EntityManager } from 'typeorm';
import { Statements } from '../projector/statements';
import { apiKeyChangesProjection } from './api-key-changes.projection';
import { approvalsProjection } from './approvals.projection';
import { auditVerificationsProjection } from './audit-verifications.projection';
import { canaryProjection } from './canary.projection';
import { controlProjection } from './control.projection';
import { engineSignalsProjection } from './engine-signals.projection';
import { gateDecisionsProjection } from './gate-decisions.projection';
import { governanceProjection } from './governance.projection';
import { heimdallProjection } from './heimdall.projection';
import { policyProjection } from './policy.projection';
import { type ProjectedMessage, type Projection } from './projection';
import { riskProjection } from './risk.projection';
import { serviceStartsProjection } from './service-starts.projection';
import { strategiesProjection } from './strategies.projection';
import { tokensProjection } from './tokens.projection';
import { tripwireProjection } from './tripwire.projection';

/** Every read model the projector maintains. */
export const projections: readonly Projection[] = [
  controlProjection,
  strategiesProjection,
  tokensProjection,
  approvalsProjection,
  gateDecisionsProjection,
  serviceStartsProjection,
  auditVerificationsProjection,
  engineSignalsProjection,
  riskProjection,
  tripwireProjection,
  canaryProjection,
  heimdallProjection,
  governanceProjection,
  apiKeyChangesProjection,
  policyProjection,
];

export const readModelEntities = projections.flatMap((projection) => projection.entities);
export const readModelTables = projections.flatMap((projection) => projection.tables);

/** Message types some read model applies. */
export function projectedTypes(registry: readonly Projection[] = projections): Set<string> {
  return new Set(registry.flatMap((projection) => projection.handles));
}

/**
 * Hands each projection the messages of its types, in stream order, then runs the per-message
 * statements they added in one round trip. Projections own disjoint tables, so the order between
 * projections within a batch does not matter.
 */
export async function applyProjections(
  manager: EntityManager,
  messages: readonly ProjectedMessage[],
  registry: readonly Projection[] = projections,
): Promise<void> {
  const statements = new Statements();
  for (const projection of registry) {
    const mine = messages.filter((message) => projection.handles.includes(message.envelope.type));
    if (mine.length > 0) await projection.apply(manager, mine, statements);
  }
  await statements.flush(manager);
}
