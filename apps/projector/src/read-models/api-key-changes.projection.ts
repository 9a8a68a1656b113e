import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { dataOf, perMessage, type MessageHandler, type Projection } from './projection';

/** Every creation and revocation of an API key, with who did it (gateway.ApiKeyCreated/Revoked). */
@Entity({ name: 'api_key_changes' })
@Index(['keyId', 'changedAt'])
export class ApiKeyChangeRow {
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'key_id', type: 'text' }) keyId!: string;
  /** `created` or `revoked`. */
  @Column({ type: 'text' }) change!: string;
  @Column({ type: 'text' }) role!: string;
  @Column({ type: 'text', nullable: true }) name!: string | null;
  @Column({ name: 'engine_id', type: 'text', nullable: true }) engineId!: string | null;
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true }) expiresAt!: Date | null;
  @Column({ name: 'actor_kind', type: 'text' }) actorKind!: string;
  @Column({ name: 'actor_id', type: 'text' }) actorId!: string;
  @Column({ name: 'changed_at', type: 'timestamptz' }) changedAt!: Date;
}

interface KeyChange {
  keyId: string;
  role: string;
  name?: string;
  engineId?: string;
  expiresAt?: string;
}

const record =
  (change: 'created' | 'revoked'): MessageHandler =>
  (sql, message) => {
    const d = dataOf<KeyChange>(message);
    const { actor, id, occurredAt } = message.envelope;
    sql.add(
      `INSERT INTO api_key_changes
         (event_id, key_id, change, role, name, engine_id, expires_at, actor_kind, actor_id, changed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        id,
        d.keyId,
        change,
        d.role,
        d.name ?? null,
        d.engineId ?? null,
        d.expiresAt ?? null,
        actor.kind,
        actor.id,
        occurredAt,
      ],
    );
  };

export const apiKeyChangesProjection: Projection = {
  name: 'api-key-changes',
  tables: ['api_key_changes'],
  entities: [ApiKeyChangeRow],
  ...perMessage({
    'gateway.ApiKeyCreated': record('created'),
    'gateway.ApiKeyRevoked': record('revoked'),
  }),
};
