export { AuditLogEntry } from './audit/audit-log.entity';
export { projections, readModelEntities, readModelTables } from './read-models/registry';
export type { Projection, ProjectedMessage } from './read-models/projection';
export { projectorEntities, projectorMigrations, openProjectorDatabase } from './persistence';
