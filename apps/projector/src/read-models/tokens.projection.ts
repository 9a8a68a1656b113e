import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { type Money } from '@bifrost/contracts';
import { dataOf, perMessage, strategyKeyOf, type Projection } from './projection';

/** Execution tokens with their lifecycle: active, revoked or consumed (expiry is read against now). */
@Entity({ name: 'execution_tokens' })
@Index(['engineId', 'strategyId', 'issuedAt'])
export class ExecutionTokenRow {
  @PrimaryColumn({ name: 'token_id', type: 'text' }) tokenId!: string;
  @Column({ name: 'engine_id', type: 'text' }) engineId!: string;
  @Column({ name: 'strategy_id', type: 'text' }) strategyId!: string;
  @Column({ type: 'text' }) status!: 'active' | 'revoked' | 'consumed';
  @Column({ type: 'jsonb' }) scope!: { actionKinds: string[] };
  @Column({ name: 'max_notional', type: 'jsonb', nullable: true }) maxNotional!: Money | null;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'single_use', type: 'boolean' }) singleUse!: boolean;
  @Column({ name: 'bound_action_hash', type: 'text', nullable: true }) boundActionHash!: string | null;
  @Column({ name: 'approval_id', type: 'text', nullable: true }) approvalId!: string | null;
  @Column({ name: 'issued_by', type: 'text' }) issuedBy!: string;
  @Column({ name: 'issued_at', type: 'timestamptz' }) issuedAt!: Date;
  @Column({ name: 'revoked_by', type: 'text', nullable: true }) revokedBy!: string | null;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
  @Column({ name: 'revoke_reason', type: 'text', nullable: true }) revokeReason!: string | null;
  @Column({ type: 'integer' }) uses!: number;
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true }) lastUsedAt!: Date | null;
  @Column({ type: 'integer' }) refusals!: number;
  @Column({ name: 'last_refusal', type: 'jsonb', nullable: true }) lastRefusal!: Record<
    string,
    unknown
  > | null;
}

interface Revocation {
  reason: string | null;
  revokedBy: string;
  revokedAt: string;
}

// Only a token still usable changes: revoking a consumed token keeps it consumed.
const revoke = `UPDATE execution_tokens SET status = 'revoked', revoked_by = $2, revoked_at = $3, revoke_reason = $4
  WHERE token_id = ANY($1::text[]) AND status = 'active'`;

/** Gate execution tokens. A refusal of an unknown token id changes no row (the decision records it). */
export const tokensProjection: Projection = {
  name: 'tokens',
  tables: ['execution_tokens'],
  entities: [ExecutionTokenRow],
  ...perMessage({
    'gate.TokenIssued': (sql, message) => {
      const d = dataOf<{
        tokenId: string;
        scope: { actionKinds: string[] };
        maxNotional: Money | null;
        expiresAt: string;
        singleUse: boolean;
        boundActionHash: string | null;
        approvalId: string | null;
        issuedBy: string;
        issuedAt: string;
      }>(message);
      const { engineId, strategyId } = strategyKeyOf(message);
      sql.add(
        `INSERT INTO execution_tokens (token_id, engine_id, strategy_id, status, scope, max_notional, expires_at,
           single_use, bound_action_hash, approval_id, issued_by, issued_at, uses, refusals)
         VALUES ($1, $2, $3, 'active', $4, $5, $6, $7, $8, $9, $10, $11, 0, 0)`,
        [
          d.tokenId,
          engineId,
          strategyId,
          JSON.stringify(d.scope),
          d.maxNotional === null ? null : JSON.stringify(d.maxNotional),
          d.expiresAt,
          d.singleUse,
          d.boundActionHash,
          d.approvalId,
          d.issuedBy,
          d.issuedAt,
        ],
      );
    },
    'gate.TokenRevoked': (sql, message) => {
      const d = dataOf<Revocation & { tokenId: string }>(message);
      sql.add(revoke, [[d.tokenId], d.revokedBy, d.revokedAt, d.reason]);
    },
    'gate.TokensRevoked': (sql, message) => {
      const d = dataOf<Revocation & { tokenIds: string[] }>(message);
      sql.add(revoke, [d.tokenIds, d.revokedBy, d.revokedAt, d.reason]);
    },
    'gate.TokenConsumed': (sql, message) => {
      const d = dataOf<{ tokenId: string; singleUse: boolean; consumedAt: string }>(message);
      sql.add(
        `UPDATE execution_tokens SET uses = uses + 1, last_used_at = $2,
           status = CASE WHEN $3 THEN 'consumed' ELSE status END WHERE token_id = $1`,
        [d.tokenId, d.consumedAt, d.singleUse],
      );
    },
    'gate.TokenRefused': (sql, message) => {
      const d = dataOf<{ tokenId: string }>(message);
      sql.add(`UPDATE execution_tokens SET refusals = refusals + 1, last_refusal = $2 WHERE token_id = $1`, [
        d.tokenId,
        JSON.stringify(message.envelope.data),
      ]);
    },
  }),
};
