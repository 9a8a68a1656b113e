import { openDataSource, persistenceEntities, persistenceMigrations } from '@bifrost/persistence';
import { type DataSource } from 'typeorm';
import { AuditLogEntry } from './audit/audit-log.entity';
import { AuditLog1732300000000 } from './migrations/1732300000000-audit-log';
import { GateReadModels1732300000100 } from './migrations/1732300000100-gate-read-models';
import { TripwireReadModels1732300000300 } from './migrations/1732300000300-tripwire-read-models';
import { CanaryReadModels1732300000600 } from './migrations/1732300000600-canary-read-models';
import { RiskReadModels1732300000200 } from './migrations/1732300000200-risk-read-models';
import { HeimdallReadModels1732300000700 } from './migrations/1732300000700-heimdall-read-models';
import { GovernanceReadModels1732300000800 } from './migrations/1732300000800-governance-read-models';
import { DecisionDocuments1732300000900 } from './migrations/1732300000900-decision-documents';
import { ApiKeyChanges1732300001000 } from './migrations/1732300001000-api-key-changes';
import { RiskUsageClosedAt1732300001100 } from './migrations/1732300001100-risk-usage-closed-at';
import { AuditLogAlwaysTriggers1732300001200 } from './migrations/1732300001200-audit-log-always-triggers';
import { RiskReservationDecisionsKey1732300001300 } from './migrations/1732300001300-risk-reservation-decisions-key';
import { StrategiesPnlTotalJsonSafe1732300001400 } from './migrations/1732300001400-strategies-pnl-total-json-safe';
import { PolicyRevisions1732300001500 } from './migrations/1732300001500-policy-revisions';
import { AuditVerifications1732300001600 } from './migrations/1732300001600-audit-verifications';
import { AuditAcceptances1732300001700 } from './migrations/1732300001700-audit-acceptances';
import { ListOrderIndexes1732300001800 } from './migrations/1732300001800-list-order-indexes';
import { KillSwitchKind1732300001900 } from './migrations/1732300001900-kill-switch-kind';
import { StrategiesDemotionPendingFrom1732300002000 } from './migrations/1732300002000-strategies-demotion-pending-from';
import { readModelEntities } from './read-models/registry';

export const projectorEntities = [...persistenceEntities, AuditLogEntry, ...readModelEntities];
export const projectorMigrations = [
  ...persistenceMigrations,
  AuditLog1732300000000,
  GateReadModels1732300000100,
  RiskReadModels1732300000200,
  TripwireReadModels1732300000300,
  CanaryReadModels1732300000600,
  HeimdallReadModels1732300000700,
  GovernanceReadModels1732300000800,
  DecisionDocuments1732300000900,
  ApiKeyChanges1732300001000,
  RiskUsageClosedAt1732300001100,
  AuditLogAlwaysTriggers1732300001200,
  RiskReservationDecisionsKey1732300001300,
  StrategiesPnlTotalJsonSafe1732300001400,
  PolicyRevisions1732300001500,
  AuditVerifications1732300001600,
  AuditAcceptances1732300001700,
  ListOrderIndexes1732300001800,
  KillSwitchKind1732300001900,
  StrategiesDemotionPendingFrom1732300002000,
];

/** The projector's Postgres: migrated to the current schema before anything is written. */
export function openProjectorDatabase(url: string, options: { poolSize?: number } = {}): Promise<DataSource> {
  return openDataSource({
    url,
    entities: projectorEntities,
    migrations: projectorMigrations,
    applicationName: 'bifrost-projector',
    ...options,
  });
}
