import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { IsNull, type DataSource, type EntityManager, type Repository } from 'typeorm';
import { ForbiddenError, NotFoundError, ValidationError } from '@bifrost/event-sourcing';
import { type Actor } from '@bifrost/contracts';
import { createEnvelope, Messaging, uuidv7 } from '@bifrost/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { GATEWAY_DB } from '../persistence/gateway-database';
import { ApiKeyRow, RefreshTokenRow } from './api-key.entity';
import { hashSecret, mintApiKey, mintRefreshToken } from './api-key';
import { actorOf, isRole, type Principal, type Role } from './roles';

export const BOOTSTRAP_OWNER_KEY_ID = 'bootstrap-owner';

/** A key as shown to admins: never the secret or its hash. */
export interface ApiKeyView {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly engineId?: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt?: string;
  readonly revokedAt?: string;
  readonly revokedBy?: string;
}

export interface NewKey {
  readonly name: string;
  readonly role: Role;
  readonly engineId?: string;
  readonly expiresAt?: string;
}

export interface IssuedRefreshToken {
  readonly refreshToken: string;
  readonly expiresAt: Date;
}

type RefreshRefusal = { ok: false; reason: 'INVALID' | 'SESSION_EXPIRED' };
export type RefreshRotation = ({ ok: true; keyId: string } & IssuedRefreshToken) | RefreshRefusal;

/** An active key as the auth guard sees it. */
interface ActiveKey {
  readonly id: string;
  readonly role: Role;
  readonly engineId?: string;
  readonly expiresAt?: number;
  /** When the key was (last) created, in whole seconds: a token issued before is not its. */
  readonly createdAtS: number;
}

/**
 * API keys and refresh tokens in the gateway's own tables. Authenticated keys are cached for
 * `GATEWAY_KEY_CACHE_MS` so a request costs no database round trip; revoking through this
 * instance evicts at once, other instances notice within the cache time. A key not found active
 * here before costs its caller a charge before it is looked up (see `authenticateKey`).
 */
@Injectable()
export class KeyStore implements OnModuleInit {
  private readonly keys: Repository<ApiKeyRow>;
  private readonly byHash = new Map<string, { key: ActiveKey; until: number }>();
  private readonly byId = new Map<string, { key: ActiveKey; until: number }>();
  /** Charged lookups under way, by key hash: requests carrying the same key at once share one. */
  private readonly chargedLookups = new Map<string, Promise<ActiveKey | undefined>>();
  /** Revocations this instance made: a lookup that started before the latest one is not cached. */
  private revocations = 0;

  constructor(
    @Inject(GATEWAY_DB) private readonly db: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(Messaging) private readonly messaging: Messaging,
  ) {
    this.keys = db.getRepository(ApiKeyRow);
  }

  async onModuleInit(): Promise<void> {
    const secret = this.config.GATEWAY_BOOTSTRAP_OWNER_KEY;
    if (!secret) return;
    const now = new Date();
    await this.bootstrapOwner(secret, now);
    // Looked up now, installed or not: found active, it needs no charge at its first use (authenticateKey).
    if (!(await this.authenticateKey(secret, now.getTime()))) {
      new Logger('KeyStore').warn(
        'GATEWAY_BOOTSTRAP_OWNER_KEY was not installed: this database already has an active owner key, and the configured key is none of its keys',
      );
    }
  }

  /**
   * Creates the bootstrap owner key unless an active owner key exists (concurrent starts insert it
   * once). Once it was revoked or expired, the same id is made active again with the configured
   * secret: the recovery path when every owner key is gone (recorded as a creation again).
   */
  async bootstrapOwner(secret: string, now: Date): Promise<boolean> {
    const owners = await this.db.query(
      `SELECT 1 FROM api_keys WHERE role = 'owner' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1) LIMIT 1`,
      [now],
    );
    if ((owners as unknown[]).length > 0) return false;
    return this.db.transaction(async (tx) => {
      const stored = await tx.query(
        `INSERT INTO api_keys (id, name, role, key_hash, created_by, created_at)
         VALUES ($1, 'bootstrap owner', 'owner', $2, 'api-gateway', $3)
         ON CONFLICT (id) DO UPDATE
           SET key_hash = EXCLUDED.key_hash, created_by = EXCLUDED.created_by, created_at = EXCLUDED.created_at,
               revoked_at = NULL, revoked_by = NULL, expires_at = NULL
           WHERE api_keys.revoked_at IS NOT NULL OR api_keys.expires_at <= EXCLUDED.created_at
         RETURNING id`,
        [BOOTSTRAP_OWNER_KEY_ID, hashSecret(secret), now],
      );
      if ((stored as unknown[]).length === 0) return false;
      await this.recordKeyEvent(
        'gateway.ApiKeyCreated',
        { keyId: BOOTSTRAP_OWNER_KEY_ID, name: 'bootstrap owner', role: 'owner' },
        { kind: 'system', id: 'api-gateway' },
      );
      this.byId.delete(BOOTSTRAP_OWNER_KEY_ID);
      return true;
    });
  }

  /**
   * The principal a presented API key stands for, or undefined when unknown, revoked or expired.
   * `chargeLookup` runs before the database is asked about a key this instance has not found active
   * before (it throws to refuse the request unasked): made-up keys are never cached, so otherwise
   * each of them would cost a query. Keys found active once are looked up again without a charge.
   */
  async authenticateKey(
    secret: string,
    now: number,
    chargeLookup?: () => void,
  ): Promise<Principal | undefined> {
    const hash = hashSecret(secret);
    const load = () => this.keys.findOneBy({ keyHash: hash });
    const hit = this.byHash.get(hash);
    const known = hit !== undefined && isActive(hit.key, now);
    let key: ActiveKey | undefined;
    if (chargeLookup === undefined || known) {
      key = await this.cached(this.byHash, hash, now, load);
    } else {
      // A burst on a key new to this instance (an engine's requests after a restart) costs one charge.
      let lookup = this.chargedLookups.get(hash);
      if (lookup === undefined) {
        chargeLookup();
        const started = this.cached(this.byHash, hash, now, load).finally(() => {
          if (this.chargedLookups.get(hash) === started) this.chargedLookups.delete(hash);
        });
        this.chargedLookups.set(hash, started);
        lookup = started;
      }
      key = await lookup;
    }
    return key && principalOf(key, 'api-key');
  }

  /** The principal behind a token's `sub` while its key is still active. */
  async activeKeyById(id: string, now: number): Promise<ActiveKey | undefined> {
    return this.cached(this.byId, id, now, () => this.keys.findOneBy({ id }));
  }

  async create(input: NewKey, by: Principal, now: Date): Promise<{ key: ApiKeyView; apiKey: string }> {
    if (!canManage(by.role, input.role)) {
      throw new ForbiddenError(`the ${by.role} role cannot create ${input.role} keys`, {
        code: 'AUTH.FORBIDDEN',
      });
    }
    if ((input.role === 'engine') !== (input.engineId !== undefined)) {
      throw new ValidationError('engineId is required for engine keys and only for them', {
        code: 'KEYS.ENGINE_ID',
      });
    }
    if (input.expiresAt !== undefined && Date.parse(input.expiresAt) <= now.getTime()) {
      throw new ValidationError(`expiresAt ${input.expiresAt} is not in the future`, { code: 'KEYS.EXPIRY' });
    }
    const minted = mintApiKey();
    const row = this.keys.create({
      id: minted.id,
      name: input.name,
      role: input.role,
      engineId: input.engineId ?? null,
      keyHash: minted.hash,
      createdBy: by.id,
      createdAt: now,
      expiresAt: input.expiresAt === undefined ? null : new Date(input.expiresAt),
      revokedAt: null,
      revokedBy: null,
    });
    await this.db.transaction(async (tx) => {
      await tx.getRepository(ApiKeyRow).insert(row);
      const view = viewOf(row);
      await this.recordKeyEvent(
        'gateway.ApiKeyCreated',
        {
          keyId: view.id,
          name: view.name,
          role: view.role,
          ...(view.engineId ? { engineId: view.engineId } : {}),
          ...(view.expiresAt ? { expiresAt: view.expiresAt } : {}),
        },
        actorOf(by),
      );
    });
    // Known here at once, so its first use needs no charge (authenticateKey); expired already, so that
    // use still looks it up, as any key's, and a revocation meanwhile is noticed.
    this.byHash.set(minted.hash, { key: activeKeyOf(row, input.role), until: 0 });
    return { key: viewOf(row), apiKey: minted.secret };
  }

  /**
   * Throws unless `id` is an active key of a person who may approve (operator and above: approving a
   * proposal is an operator's call), so an approver role is never held by a key that cannot use it.
   */
  async assertPersonKey(id: string, now: Date): Promise<void> {
    const row = await this.keys.findOneBy({ id });
    if (!row || row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt <= now)) {
      throw new NotFoundError(`no active API key ${id}`, { code: 'KEYS.NOT_FOUND' });
    }
    if (row.role === 'engine') {
      throw new ValidationError(`key ${id} is an engine's: approver roles are for people`, {
        code: 'KEYS.ENGINE_KEY',
      });
    }
    if (row.role === 'viewer') {
      throw new ValidationError(`key ${id} is a viewer's: approving a proposal needs the operator role`, {
        code: 'KEYS.VIEWER_KEY',
      });
    }
  }

  /**
   * Refuses an approver role when the assigner's key and the target key share a line of creation:
   * each key with the key that created it, and so on up, owner keys left out. Otherwise one admin
   * could mint keys (directly, or through a second admin key it minted) and make approvers of them
   * alone. Another admin, or an owner, vouches for the people behind the keys it did not mint.
   */
  async assertNotOwnIssue(assignerId: string, targetId: string): Promise<void> {
    const [shared] = (await this.keys.query(
      `WITH RECURSIVE line(start, id, created_by, role) AS (
         SELECT id, id, created_by, role FROM api_keys WHERE id = ANY($1)
         UNION
         SELECT line.start, k.id, k.created_by, k.role FROM api_keys k JOIN line ON k.id = line.created_by
       )
       SELECT a.id FROM line a JOIN line t ON a.id = t.id
        WHERE a.start = $2 AND t.start = $3 AND a.role <> 'owner'
        LIMIT 1`,
      [[assignerId, targetId], assignerId, targetId],
    )) as { id: string }[];
    if (shared) {
      throw new ForbiddenError(
        `key ${targetId} and your key share key ${shared.id} in their line of creation: another admin, or an owner, gives it a role`,
        { code: 'GOVERNANCE.SELF_ASSIGNMENT_FORBIDDEN' },
      );
    }
  }

  /** Which of `ids` are keys that may approve now: active (not revoked, not expired), of a person who may approve. */
  async approverKeyIds(ids: readonly string[], now: Date): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows: { id: string }[] = await this.keys.query(
      `SELECT id FROM api_keys
        WHERE id = ANY($1) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
          AND role NOT IN ('engine', 'viewer')`,
      [ids, now],
    );
    return new Set(rows.map((row) => row.id));
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.keys.find({ order: { createdAt: 'ASC', id: 'ASC' } })).map(viewOf);
  }

  async revoke(id: string, by: Principal, now: Date): Promise<ApiKeyView> {
    const row = await this.keys.findOneBy({ id });
    if (!row) throw new NotFoundError(`no API key ${id}`, { code: 'KEYS.NOT_FOUND' });
    if (!isRole(row.role) || !canManage(by.role, row.role)) {
      throw new ForbiddenError(`the ${by.role} role cannot revoke ${row.role} keys`, {
        code: 'AUTH.FORBIDDEN',
      });
    }
    if (row.revokedAt === null) {
      const revokedHere = await this.db.transaction(async (tx) => {
        // Of revocations at once, one changes the row; the others wait for it and change nothing.
        const { affected } = await tx
          .getRepository(ApiKeyRow)
          .update({ id, revokedAt: IsNull() }, { revokedAt: now, revokedBy: by.id });
        if (!affected) return false;
        await tx.query(`UPDATE refresh_tokens SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL`, [
          id,
          now,
        ]);
        await this.recordKeyEvent('gateway.ApiKeyRevoked', { keyId: id, role: row.role }, actorOf(by));
        return true;
      });
      // Revoked meanwhile by someone else: answer what is stored, as for a key revoked before.
      Object.assign(
        row,
        revokedHere ? { revokedAt: now, revokedBy: by.id } : await this.keys.findOneByOrFail({ id }),
      );
    }
    this.revocations += 1;
    this.byHash.delete(row.keyHash);
    // A request arriving from now on must not share a lookup that read the key before it was revoked.
    this.chargedLookups.delete(row.keyHash);
    this.byId.delete(id);
    return viewOf(row);
  }

  /**
   * Issues a refresh token of a session begun at `sessionStartedAt` (a login: now): it expires
   * `GATEWAY_REFRESH_TOKEN_TTL_SECONDS` from now, or at the session's end when that comes first.
   */
  async issueRefreshToken(
    keyId: string,
    now: Date,
    manager: EntityManager = this.db.manager,
    sessionStartedAt: Date = now,
  ): Promise<IssuedRefreshToken> {
    const minted = mintRefreshToken();
    const expiresAt = new Date(
      Math.min(
        now.getTime() + this.config.GATEWAY_REFRESH_TOKEN_TTL_SECONDS * 1000,
        sessionEnd(sessionStartedAt, this.config),
      ),
    );
    await manager.getRepository(RefreshTokenRow).insert({
      id: uuidv7(),
      keyId,
      tokenHash: minted.hash,
      createdAt: now,
      expiresAt,
      revokedAt: null,
      sessionStartedAt,
    });
    return { refreshToken: minted.secret, expiresAt };
  }

  /**
   * Spends a refresh token and issues its successor, of the same session, in one transaction, so a
   * failure leaves the old token unspent (a retry then works) rather than spent with no successor.
   * Returns the key id and the new refresh token; `SESSION_EXPIRED` once the session is older than
   * `GATEWAY_SESSION_MAX_AGE_SECONDS`, `INVALID` when the token is unknown, spent or expired.
   */
  async rotateRefreshToken(secret: string, now: Date): Promise<RefreshRotation> {
    return this.db.transaction(async (tx) => {
      const spent = await this.spendRefreshToken(secret, now, tx);
      if (!spent.ok) return spent;
      const issued = await this.issueRefreshToken(spent.keyId, now, tx, spent.sessionStartedAt);
      return { ok: true, keyId: spent.keyId, ...issued };
    });
  }

  /**
   * Spends a refresh token: valid once, before expiry and the end of its session, while its key is
   * active. Presenting a spent token again revokes every refresh token of its key (it was copied:
   * RFC 6819 §5.2.2.3).
   */
  private async spendRefreshToken(
    secret: string,
    now: Date,
    tx: EntityManager,
  ): Promise<{ ok: true; keyId: string; sessionStartedAt: Date } | RefreshRefusal> {
    const hash = hashSecret(secret);
    const rows = (await tx.query(
      `SELECT id, key_id, expires_at, revoked_at, session_started_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
      [hash],
    )) as {
      id: string;
      key_id: string;
      expires_at: Date;
      revoked_at: Date | null;
      session_started_at: Date;
    }[];
    const token = rows[0];
    if (!token) return { ok: false, reason: 'INVALID' };
    if (token.revoked_at !== null) {
      await tx.query(`UPDATE refresh_tokens SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL`, [
        token.key_id,
        now,
      ]);
      return { ok: false, reason: 'INVALID' };
    }
    // Refused as they are: presenting an expired token again is no reuse (nothing was issued for it).
    // The session's end is checked apart from the expiry, which a shorter max age set since does not move.
    if (sessionEnd(token.session_started_at, this.config) <= now.getTime())
      return { ok: false, reason: 'SESSION_EXPIRED' };
    if (token.expires_at.getTime() <= now.getTime()) return { ok: false, reason: 'INVALID' };
    await tx.query(`UPDATE refresh_tokens SET revoked_at = $2 WHERE id = $1`, [token.id, now]);
    return { ok: true, keyId: token.key_id, sessionStartedAt: token.session_started_at };
  }

  /**
   * Records a key's creation or revocation in the audit trail (BIFROST_EVENTS → the audit log),
   * inside the transaction that changes the key: when JetStream does not take the event, the change
   * is rolled back and the caller gets an error, so no key changes unrecorded. A publish that fails
   * without an answer (a timeout) may have been taken all the same: the key's events are read back,
   * and one found there keeps the change, so the log never shows a change the database rolled back.
   */
  private async recordKeyEvent(
    type: 'gateway.ApiKeyCreated' | 'gateway.ApiKeyRevoked',
    data: { keyId: string } & Record<string, unknown>,
    actor: Actor,
  ): Promise<void> {
    const subject = this.messaging.naming.eventSubject('gateway', 'key', data.keyId);
    const envelope = createEnvelope({ type, subject, source: 'api-gateway', actor, data });
    try {
      await this.messaging.publisher.publish(envelope);
    } catch (error) {
      const { events } = await this.messaging.eventStore.read(subject).catch(() => ({ events: [] }));
      if (!events.some((stored) => stored.envelope.id === envelope.id)) throw error;
    }
  }

  private async cached(
    cache: Map<string, { key: ActiveKey; until: number }>,
    cacheKey: string,
    now: number,
    load: () => Promise<ApiKeyRow | null>,
  ): Promise<ActiveKey | undefined> {
    const hit = cache.get(cacheKey);
    if (hit && hit.until > now) return isActive(hit.key, now) ? hit.key : undefined;
    // A lookup that a revocation overtook may have read the key as it was before: it answers its
    // own request, but is not cached, or the revoked key would pass here for GATEWAY_KEY_CACHE_MS.
    const revocations = this.revocations;
    const row = await load();
    if (!row || row.revokedAt !== null || !isRole(row.role)) {
      cache.delete(cacheKey);
      return undefined;
    }
    const key = activeKeyOf(row, row.role);
    // Kept past `until` (even with a cache time of 0) until a lookup replaces or drops it: it marks
    // the key as found active, so its lookups need no charge (authenticateKey). Real keys only.
    if (revocations === this.revocations)
      cache.set(cacheKey, { key, until: now + this.config.GATEWAY_KEY_CACHE_MS });
    return isActive(key, now) ? key : undefined;
  }
}

/** When a session begun at `startedAt` ends, in ms since the epoch. */
function sessionEnd(startedAt: Date, config: GatewayConfig): number {
  return startedAt.getTime() + config.GATEWAY_SESSION_MAX_AGE_SECONDS * 1000;
}

function activeKeyOf(row: ApiKeyRow, role: Role): ActiveKey {
  return {
    id: row.id,
    role,
    ...(row.engineId === null ? {} : { engineId: row.engineId }),
    ...(row.expiresAt === null ? {} : { expiresAt: row.expiresAt.getTime() }),
    createdAtS: Math.floor(row.createdAt.getTime() / 1000),
  };
}

function isActive(key: ActiveKey, now: number): boolean {
  return key.expiresAt === undefined || key.expiresAt > now;
}

/** Admins manage keys up to admin; owners manage every key. */
function canManage(by: Role, target: Role): boolean {
  if (by === 'owner') return true;
  return by === 'admin' && target !== 'owner';
}

export function principalOf(key: ActiveKey, via: Principal['via']): Principal {
  return { id: key.id, role: key.role, ...(key.engineId ? { engineId: key.engineId } : {}), via };
}

function viewOf(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    ...(row.engineId === null ? {} : { engineId: row.engineId }),
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    ...(row.expiresAt === null ? {} : { expiresAt: row.expiresAt.toISOString() }),
    ...(row.revokedAt === null ? {} : { revokedAt: row.revokedAt.toISOString() }),
    ...(row.revokedBy === null ? {} : { revokedBy: row.revokedBy }),
  };
}
