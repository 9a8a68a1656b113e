import { ConsumerCheckpoint } from './checkpoint.entity';
import { ConsumerCheckpoints1732200000000 } from './migrations/1732200000000-consumer-checkpoints';

export * from './checkpoint.entity';
export * from './checkpoints';
export * from './data-source';
export * from './audit-log-verifier';
export { ConsumerCheckpoints1732200000000 };

/** Add to an app's own entity list when it keeps consumer checkpoints. */
export const persistenceEntities = [ConsumerCheckpoint];
/** Add to an app's own migration list, before its own migrations. */
export const persistenceMigrations = [ConsumerCheckpoints1732200000000];
