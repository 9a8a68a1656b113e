import { Client } from 'pg';
import type { Repository } from 'typeorm';
import { TransientError } from '@bifrost/event-sourcing';
import { Messaging, uuidv7 } from '@bifrost/messaging';
import { TcpProxy } from '@bifrost/testing';
import {
  connectProbe,
  startGateway,
  JWT_SECRET,
  OWNER_KEY,
  type GatewayHarness,
} from '../testing/gateway.fixtures';
import { TOKEN_ISSUER } from './auth.service';
import { signJwt } from './jwt';
import { KeyStore } from './key-store.service';

describe('gateway auth', () => {
  let h: GatewayHarness;

  beforeAll(async () => {
    h = await startGateway('gwauth', { GATEWAY_RATE_LIMIT_ANONYMOUS: '1000' });
  });
  afterAll(async () => {
    await h.close();
  });

  describe('the bootstrap owner key', () => {
    it('should authenticate as the owner', async () => {
      const me = await h.http('GET', '/api/v1/auth/me', { key: OWNER_KEY });

      expect(me).toMatchObject({
        status: 200,
        body: { id: 'bootstrap-owner', role: 'owner', via: 'api-key' },
      });
    });

    it('should be stored only as its hash', async () => {
      const { Client } = await import('pg');
      const client = new Client({ connectionString: h.db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ key_hash: string }>(
          `SELECT key_hash FROM api_keys WHERE id = 'bootstrap-owner'`,
        );
        expect(rows).toHaveLength(1);
        expect(rows[0]?.key_hash).toMatch(/^[0-9a-f]{64}$/);
        expect(JSON.stringify(rows)).not.toContain(OWNER_KEY);
      } finally {
        await client.end();
      }
    });
  });

  describe('key changes', () => {
    it('should be recorded as events attributed to who made them, the bootstrap key’s to the gateway', async () => {
      const probe = await connectProbe(h.ns);
      try {
        const keyEvents = async (keyId: string) =>
          (await probe.eventStore.read(h.ns.naming.eventSubject('gateway', 'key', keyId))).events.map(
            (e) => e.envelope,
          );
        const admin = await h.createKey('admin');
        const engine = await h.http('POST', '/api/v1/keys', {
          key: admin.apiKey,
          body: { name: 'bot key', role: 'engine', engineId: 'bot-7' },
        });
        await h.http('DELETE', `/api/v1/keys/${engine.body.id}`, { key: admin.apiKey });

        expect(await keyEvents(engine.body.id)).toMatchObject([
          {
            type: 'gateway.ApiKeyCreated',
            actor: { kind: 'operator', id: admin.id },
            data: { keyId: engine.body.id, name: 'bot key', role: 'engine', engineId: 'bot-7' },
          },
          {
            type: 'gateway.ApiKeyRevoked',
            actor: { kind: 'operator', id: admin.id },
            data: { keyId: engine.body.id, role: 'engine' },
          },
        ]);
        expect(await keyEvents(admin.id)).toMatchObject([
          { type: 'gateway.ApiKeyCreated', actor: { kind: 'operator', id: 'bootstrap-owner' } },
        ]);
        expect(await keyEvents('bootstrap-owner')).toMatchObject([
          {
            type: 'gateway.ApiKeyCreated',
            actor: { kind: 'system', id: 'api-gateway' },
            data: { role: 'owner' },
          },
        ]);
      } finally {
        await probe.drain();
      }
    });

    it('should keep a change whose event JetStream took though its acknowledgement was lost', async () => {
      // The publish reaches the stream; its answer does not (as a timed-out ack): fault injection on
      // the gateway's own publisher, the stream and the database being the real ones.
      const { publisher } = h.gateway.app.get(Messaging);
      const publish = publisher.publish.bind(publisher);
      const loseNextAck = () => {
        publisher.publish = (async (...args: Parameters<typeof publish>) => {
          publisher.publish = publish;
          await publish(...args);
          throw new TransientError('JetStream did not acknowledge the publish in time');
        }) as typeof publisher.publish;
      };
      const probe = await connectProbe(h.ns);
      try {
        const victim = await h.createKey('operator');
        loseNextAck();
        expect((await h.http('DELETE', `/api/v1/keys/${victim.id}`, { key: OWNER_KEY })).status).toBe(200);
        expect((await h.http('GET', '/api/v1/auth/me', { key: victim.apiKey })).status).toBe(401);

        loseNextAck();
        const created = await h.http('POST', '/api/v1/keys', {
          key: OWNER_KEY,
          body: { name: 'late', role: 'viewer' },
        });
        expect(created.status).toBe(201);
        expect((await h.http('GET', '/api/v1/auth/me', { key: created.body.apiKey })).status).toBe(200);

        const types = async (id: string) =>
          (await probe.eventStore.read(h.ns.naming.eventSubject('gateway', 'key', id))).events.map(
            (e) => e.envelope.type,
          );
        expect(await types(victim.id)).toEqual(['gateway.ApiKeyCreated', 'gateway.ApiKeyRevoked']);
        expect(await types(created.body.id)).toEqual(['gateway.ApiKeyCreated']);
      } finally {
        publisher.publish = publish;
        await probe.drain();
      }
    });

    it('should record one revocation when admins revoke a key at once, and answer each with it', async () => {
      const probe = await connectProbe(h.ns);
      try {
        const admins = await Promise.all(Array.from({ length: 5 }, () => h.createKey('admin')));
        const target = await h.createKey('viewer');

        const replies = await Promise.all(
          admins.map((admin) => h.http('DELETE', `/api/v1/keys/${target.id}`, { key: admin.apiKey })),
        );

        const { events } = await probe.eventStore.read(h.ns.naming.eventSubject('gateway', 'key', target.id));
        const revocations = events.filter((e) => e.envelope.type === 'gateway.ApiKeyRevoked');
        expect(revocations).toHaveLength(1);
        const by = revocations[0]?.envelope.actor.id;
        expect(replies.map((r) => [r.status, r.body.revokedBy])).toEqual(admins.map(() => [200, by]));
        expect(new Set(replies.map((r) => r.body.revokedAt)).size).toBe(1);
      } finally {
        await probe.drain();
      }
    });
  });

  describe('a created key', () => {
    it('should work with X-Api-Key, show up in the list without secrets, and stop working once revoked', async () => {
      const viewer = await h.createKey('viewer');

      expect((await h.http('GET', '/api/v1/auth/me', { key: viewer.apiKey })).body).toMatchObject({
        id: viewer.id,
        role: 'viewer',
      });
      const list = await h.http('GET', '/api/v1/keys', { key: OWNER_KEY });
      expect(list.body.keys.map((k: { id: string }) => k.id)).toContain(viewer.id);
      const another = await h.http('POST', '/api/v1/keys', {
        key: OWNER_KEY,
        body: { name: 'cached?', role: 'viewer' },
      });
      expect(another.headers.get('cache-control')).toBe('no-store');
      // Who created a key, as its audit event names them: a key id, or the gateway for the bootstrap key.
      expect(list.body.keys).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: viewer.id, createdBy: 'bootstrap-owner' }),
          expect.objectContaining({ id: 'bootstrap-owner', createdBy: 'api-gateway' }),
        ]),
      );
      expect(JSON.stringify(list.body)).not.toContain(viewer.apiKey);

      const revoked = await h.http('DELETE', `/api/v1/keys/${viewer.id}`, { key: OWNER_KEY });
      expect(revoked).toMatchObject({ status: 200, body: { id: viewer.id, revokedBy: 'bootstrap-owner' } });
      expect((await h.http('GET', '/api/v1/auth/me', { key: viewer.apiKey })).status).toBe(401);
    });

    it('should not cache a lookup that the revocation overtook: the key stops working at once', async () => {
      const viewer = await h.createKey('viewer');
      // The real lookup, held after it read the key (still active) until the revocation is done:
      // what a slow event loop or database does to a request that arrives just before the revoke.
      const repository = (h.gateway.app.get(KeyStore) as unknown as { keys: Repository<object> }).keys;
      const findOneBy = repository.findOneBy.bind(repository);
      let read!: () => void;
      const lookupRead = new Promise<void>((resolve) => (read = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const spy = jest.spyOn(repository, 'findOneBy').mockImplementation(async (where) => {
        const row = await findOneBy(where);
        if (!('keyHash' in where) || (row as { id?: string } | null)?.id !== viewer.id) return row;
        read();
        await released;
        return row;
      });
      try {
        const before = h.http('GET', '/api/v1/auth/me', { key: viewer.apiKey });
        await lookupRead;
        const revoked = await h.http('DELETE', `/api/v1/keys/${viewer.id}`, { key: OWNER_KEY });
        release();

        expect(revoked.status).toBe(200);
        // Sent before the revocation answered: either answer is fair; it must not outlive it.
        expect([200, 401]).toContain((await before).status);
        expect((await h.http('GET', '/api/v1/auth/me', { key: viewer.apiKey })).status).toBe(401);
      } finally {
        spy.mockRestore();
      }
    });

    it('should stop working once expired', async () => {
      // Room for the key's creation and first use on a loaded machine before it expires.
      const expiresAt = new Date(Date.now() + 5_000).toISOString();
      const shortLived = await h.createKey('viewer', { expiresAt });
      expect((await h.http('GET', '/api/v1/auth/me', { key: shortLived.apiKey })).status).toBe(200);

      await waitUntil(Date.parse(expiresAt));

      expect((await h.http('GET', '/api/v1/auth/me', { key: shortLived.apiKey })).status).toBe(401);
    }, 15_000);

    it.each([
      ['in the past', '2020-01-01T00:00:00.000Z', 422, 'KEYS.EXPIRY'],
      // JavaScript would roll it over to 3 March 2099: the key would expire on a day nobody asked
      // for. The schema's Timestamp refuses it.
      ['on a day the month does not have', '2099-02-31T00:00:00.000Z', 400, 'REQUEST.INVALID'],
    ])('should refuse an expiry %s', async (_what, expiresAt, status, code) => {
      const created = await h.http('POST', '/api/v1/keys', {
        key: OWNER_KEY,
        body: { name: 'late', role: 'viewer', expiresAt },
      });

      expect(created).toMatchObject({ status, body: { code } });
    });
  });

  describe('key management rights', () => {
    it('should let an admin create operator keys but not owner keys, nor revoke an owner key', async () => {
      const admin = await h.createKey('admin');

      expect(
        (await h.http('POST', '/api/v1/keys', { key: admin.apiKey, body: { name: 'op', role: 'operator' } }))
          .status,
      ).toBe(201);
      expect(
        (await h.http('POST', '/api/v1/keys', { key: admin.apiKey, body: { name: 'o', role: 'owner' } }))
          .status,
      ).toBe(403);
      expect((await h.http('DELETE', '/api/v1/keys/bootstrap-owner', { key: admin.apiKey })).status).toBe(
        403,
      );
      expect((await h.http('GET', '/api/v1/auth/me', { key: OWNER_KEY })).status).toBe(200);
    });

    it('should refuse an operator any key management', async () => {
      const operator = await h.createKey('operator');

      expect((await h.http('GET', '/api/v1/keys', { key: operator.apiKey })).status).toBe(403);
    });
  });

  describe('refusals', () => {
    afterEach(() => jest.restoreAllMocks());

    it('should log who was refused what, without the credential', async () => {
      const operator = await h.createKey('operator');
      const info = jest.spyOn(h.gateway.logger, 'info');
      const wrongKey = `${operator.apiKey.slice(0, -4)}AAAA`;

      await h.http('GET', '/api/v1/keys', { key: operator.apiKey });
      await h.http('GET', '/api/v1/control', { key: wrongKey });

      const lines = info.mock.calls.map(([fields, message]) => ({ fields, message }));
      expect(lines).toEqual([
        {
          fields: expect.objectContaining({
            method: 'GET',
            path: '/api/v1/keys',
            status: 403,
            code: 'AUTH.FORBIDDEN',
            ip: '127.0.0.1',
            principal: operator.id,
          }),
          message: expect.stringMatching(/^refused: /),
        },
        {
          fields: expect.objectContaining({ path: '/api/v1/control', status: 401, principal: null }),
          message: expect.stringMatching(/^refused: /),
        },
      ]);
      expect(JSON.stringify(lines)).not.toContain(wrongKey.slice(-30));
      expect(JSON.stringify(lines)).not.toContain(operator.apiKey.slice(-30));
    });

    it('should require an engine id for engine keys only', async () => {
      const noEngine = await h.http('POST', '/api/v1/keys', {
        key: OWNER_KEY,
        body: { name: 'e', role: 'engine' },
      });
      const viewerWithEngine = await h.http('POST', '/api/v1/keys', {
        key: OWNER_KEY,
        body: { name: 'v', role: 'viewer', engineId: 'bot' },
      });

      expect(noEngine.status).toBe(422);
      expect(viewerWithEngine.status).toBe(422);
    });
  });

  describe('operator sessions', () => {
    it('should exchange a key for an access token that authenticates, and rotate the refresh token', async () => {
      const operator = await h.createKey('operator');
      const issued = await h.http('POST', '/api/v1/auth/token', { body: { apiKey: operator.apiKey } });
      expect(issued).toMatchObject({
        status: 200,
        // The seed's defaults: a 15-minute access token, a 7-day refresh token.
        body: {
          tokenType: 'Bearer',
          expiresIn: 900,
          refreshExpiresIn: 604_800,
          principal: { id: operator.id },
        },
      });

      const me = await h.http('GET', '/api/v1/auth/me', { token: issued.body.accessToken });
      expect(me.body).toMatchObject({ id: operator.id, role: 'operator', via: 'jwt' });

      const refreshed = await h.http('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: issued.body.refreshToken },
      });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.refreshToken).not.toBe(issued.body.refreshToken);
      // Secrets in a response: no cache may keep them.
      expect(issued.headers.get('cache-control')).toBe('no-store');
      expect(refreshed.headers.get('cache-control')).toBe('no-store');

      // The first refresh token was spent: presenting it again revokes the newer one too.
      expect(
        (await h.http('POST', '/api/v1/auth/refresh', { body: { refreshToken: issued.body.refreshToken } }))
          .status,
      ).toBe(401);
      expect(
        (
          await h.http('POST', '/api/v1/auth/refresh', {
            body: { refreshToken: refreshed.body.refreshToken },
          })
        ).status,
      ).toBe(401);
    });

    it("should refuse an expired refresh token, however often, without ending the key's other sessions", async () => {
      const operator = await h.createKey('operator');
      const refresh = async (refreshToken: string) =>
        (await h.http('POST', '/api/v1/auth/refresh', { body: { refreshToken } })).status;
      const expired = await h.http('POST', '/api/v1/auth/token', { body: { apiKey: operator.apiKey } });
      const db = new Client({ connectionString: h.db.url });
      await db.connect();
      try {
        await db.query(
          `UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE key_id = $1`,
          [operator.id],
        );
      } finally {
        await db.end();
      }
      const other = await h.http('POST', '/api/v1/auth/token', { body: { apiKey: operator.apiKey } });

      expect(await refresh(expired.body.refreshToken)).toBe(401);
      expect(await refresh(expired.body.refreshToken)).toBe(401);
      // Not taken for a stolen token presented twice: the other session goes on.
      expect(await refresh(other.body.refreshToken)).toBe(200);
    });

    it('should end a session at its maximum age from the login, however often it was refreshed', async () => {
      const operator = await h.createKey('operator');
      const refresh = (refreshToken: string) =>
        h.http('POST', '/api/v1/auth/refresh', { body: { refreshToken } });
      const login = await h.http('POST', '/api/v1/auth/token', { body: { apiKey: operator.apiKey } });
      const db = new Client({ connectionString: h.db.url });
      await db.connect();
      try {
        // The login was 30 days (the default maximum age) less an hour ago (to the ms, as the gateway writes it).
        await db.query(
          `UPDATE refresh_tokens SET session_started_at = date_trunc('milliseconds', now() - interval '30 days' + interval '1 hour') WHERE key_id = $1`,
          [operator.id],
        );
        const refreshed = await refresh(login.body.refreshToken);
        // Its successor belongs to the same session: it expires with it, not 7 days from now.
        expect(refreshed.status).toBe(200);
        expect(refreshed.body.refreshExpiresIn).toBeGreaterThan(3_500);
        expect(refreshed.body.refreshExpiresIn).toBeLessThanOrEqual(3_600);
        const { rows } = await db.query<{ sessions: string }>(
          `SELECT count(DISTINCT session_started_at) AS sessions FROM refresh_tokens WHERE key_id = $1`,
          [operator.id],
        );
        expect(rows[0]?.sessions).toBe('1');

        // The session's end passes (its refresh token would not expire for days yet).
        await db.query(
          `UPDATE refresh_tokens SET session_started_at = now() - interval '30 days', expires_at = now() + interval '1 day' WHERE key_id = $1`,
          [operator.id],
        );
        const other = await h.http('POST', '/api/v1/auth/token', { body: { apiKey: operator.apiKey } });

        const ended = await refresh(refreshed.body.refreshToken);
        expect(ended.status).toBe(401);
        expect(ended.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(ended.body).toMatchObject({ type: '/problems/unauthorized', code: 'AUTH.SESSION_EXPIRED' });
        expect((await refresh(refreshed.body.refreshToken)).body).toMatchObject({
          code: 'AUTH.SESSION_EXPIRED',
        });
        // A new login is a new session, and the ended one was no reuse that ends it.
        expect((await refresh(other.body.refreshToken)).status).toBe(200);
      } finally {
        await db.end();
      }
    });

    it('should leave the refresh token unspent when its successor cannot be stored', async () => {
      const operator = await h.createKey('operator');
      const issued = await h.http('POST', '/api/v1/auth/token', { body: { apiKey: operator.apiKey } });
      const db = new Client({ connectionString: h.db.url });
      await db.connect();
      try {
        // Any insert into refresh_tokens fails while this trigger is there.
        await db.query(`CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN RAISE EXCEPTION 'storage refused'; END $$`);
        await db.query(
          'CREATE TRIGGER refuse_refresh BEFORE INSERT ON refresh_tokens FOR EACH ROW EXECUTE FUNCTION refuse_insert()',
        );
        const error = jest.spyOn(h.gateway.logger, 'error');
        const failed = await h.http('POST', '/api/v1/auth/refresh', {
          body: { refreshToken: issued.body.refreshToken },
        });
        expect(failed.status).toBe(500);
        // Logged with Postgres' message and SQLSTATE, not the query's parameters (the new token's hash, the key id).
        const [[fields]] = error.mock.calls as [[{ err: Record<string, unknown> }]];
        expect(fields.err).toMatchObject({ message: 'storage refused', code: 'P0001' });
        expect(JSON.stringify(fields)).not.toContain(operator.id);
        error.mockRestore();
      } finally {
        await db.query('DROP TRIGGER IF EXISTS refuse_refresh ON refresh_tokens');
        await db.query('DROP FUNCTION IF EXISTS refuse_insert()');
        await db.end();
      }

      const retried = await h.http('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: issued.body.refreshToken },
      });
      expect(retried.status).toBe(200);
    });

    it('should refuse a tampered access token', async () => {
      const operator = await h.createKey('operator');
      const { body } = await h.http('POST', '/api/v1/auth/token', { body: { apiKey: operator.apiKey } });
      const [header, payload, signature] = (body.accessToken as string).split('.');
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString());
      const forged = Buffer.from(
        JSON.stringify({ ...claims, sub: 'bootstrap-owner', role: 'owner' }),
      ).toString('base64url');

      const me = await h.http('GET', '/api/v1/keys', { token: `${header}.${forged}.${signature}` });

      expect(me).toMatchObject({ status: 401, body: { code: 'AUTH.UNAUTHORIZED' } });
    });

    it('should end the tokens of a revoked key', async () => {
      const operator = await h.createKey('operator');
      const { body } = await h.http('POST', '/api/v1/auth/token', { body: { apiKey: operator.apiKey } });
      await h.http('DELETE', `/api/v1/keys/${operator.id}`, { key: OWNER_KEY });

      expect((await h.http('GET', '/api/v1/auth/me', { token: body.accessToken })).status).toBe(401);
      expect(
        (await h.http('POST', '/api/v1/auth/refresh', { body: { refreshToken: body.refreshToken } })).status,
      ).toBe(401);
    });

    it('should not issue tokens to engine keys', async () => {
      const engine = await h.createKey('engine', { engineId: 'bot' });

      expect((await h.http('POST', '/api/v1/auth/token', { body: { apiKey: engine.apiKey } })).status).toBe(
        403,
      );
    });

    it('should answer an unknown key with 401', async () => {
      expect((await h.http('POST', '/api/v1/auth/token', { body: { apiKey: 'nope' } })).status).toBe(401);
    });
  });

  describe('the anonymous rate limit behind a proxy', () => {
    // One token per 10 s: each pair of calls falls in one window however slow the machine.
    const env = { GATEWAY_RATE_LIMIT_ANONYMOUS: '0.1', GATEWAY_RATE_BURST_SECONDS: '10' };
    const anonymous = (gateway: GatewayHarness, client: string) =>
      fetch(`${gateway.gateway.url}/api/v1/auth/me`, { headers: { 'x-forwarded-for': client } }).then(
        (response) => response.status,
      );

    it('should count each client apart by X-Forwarded-For with GATEWAY_TRUST_PROXY_HOPS=1, and ignore the header without', async () => {
      const proxied = await startGateway('gwproxy', { ...env, GATEWAY_TRUST_PROXY_HOPS: '1' }, h);
      const direct = await startGateway('gwdirect', env, h);
      try {
        expect(await anonymous(proxied, '203.0.113.1')).toBe(401);
        expect(await anonymous(proxied, '203.0.113.1')).toBe(429);
        expect(await anonymous(proxied, '203.0.113.2')).toBe(401);

        // Without trusted proxies the header is the client's word: one address, one budget.
        expect(await anonymous(direct, '203.0.113.1')).toBe(401);
        expect(await anonymous(direct, '203.0.113.2')).toBe(429);
      } finally {
        await Promise.all([proxied.close(), direct.close()]);
      }
    });

    it("should count an IPv6 client's whole /64 as one address, and IPv4-mapped clients each apart", async () => {
      const proxied = await startGateway('gwproxy6', { ...env, GATEWAY_TRUST_PROXY_HOPS: '1' }, h);
      try {
        // One subscriber's network: it picks any of its 2^64 addresses, each spelt as it likes.
        expect(await anonymous(proxied, '2001:db8:0:7::1')).toBe(401);
        expect(await anonymous(proxied, '2001:db8:0:7:ab:cd:ef:12')).toBe(429);
        expect(await anonymous(proxied, '2001:DB8::7:0:0:0:2')).toBe(429);
        expect(await anonymous(proxied, '2001:db8:0:8::1')).toBe(401);
        // An IPv4 client as a dual-stack socket names it: its own address, as without the prefix.
        expect(await anonymous(proxied, '::ffff:198.51.100.1')).toBe(401);
        expect(await anonymous(proxied, '198.51.100.1')).toBe(429);
        expect(await anonymous(proxied, '::ffff:198.51.100.2')).toBe(401);
      } finally {
        await proxied.close();
      }
    });
  });

  describe('a database that cannot be reached', () => {
    it('should make reads and key lookups 503 problems with Retry-After, not internal errors', async () => {
      const url = new URL(h.db.url);
      const proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
      url.host = `127.0.0.1:${proxy.port}`;
      const cut = await startGateway('gwnodb', { DATABASE_URL: url.toString() }, h);
      const viewer = await h.createKey('viewer');
      try {
        // The owner's key is looked up now, and cached: the list below is then the read that fails.
        expect((await cut.http('GET', '/api/v1/keys', { key: OWNER_KEY })).status).toBe(200);
        // What Postgres down or restarting looks like to the gateway: connections refused.
        await proxy.stop();

        const read = await cut.http('GET', '/api/v1/keys', { key: OWNER_KEY });
        const lookup = await cut.http('GET', '/api/v1/auth/me', { key: viewer.apiKey });

        for (const response of [read, lookup]) {
          expect(response).toMatchObject({
            status: 503,
            body: { type: '/problems/service-unavailable', code: 'INFRA.DATABASE_UNAVAILABLE' },
          });
          expect(response.headers.get('retry-after')).toBe('5');
        }
      } finally {
        await cut.close();
      }
    });
  });

  describe('the bootstrap owner key, once every owner key is gone', () => {
    it('should come back at the next start, with the configured secret, recorded as created again', async () => {
      const store = h.gateway.app.get(KeyStore);
      const other = await h.createKey('owner');
      // A token of the bootstrap session issued two minutes ago, its key created before that.
      const db = new Client({ connectionString: h.db.url });
      await db.connect();
      await db.query(
        `UPDATE api_keys SET created_at = now() - interval '10 minutes' WHERE id = 'bootstrap-owner'`,
      );
      await db.end();
      const iat = Math.floor(Date.now() / 1000) - 120;
      const oldToken = signJwt(
        { sub: 'bootstrap-owner', role: 'owner', iat, exp: iat + 900, jti: uuidv7(), iss: TOKEN_ISSUER },
        JWT_SECRET,
      );
      expect((await h.http('GET', '/api/v1/auth/me', { token: oldToken })).status).toBe(200);
      expect((await h.http('DELETE', '/api/v1/keys/bootstrap-owner', { key: other.apiKey })).status).toBe(
        200,
      );
      expect((await h.http('GET', '/api/v1/auth/me', { key: OWNER_KEY })).status).toBe(401);
      // Another owner is active: a start changes nothing.
      expect(await store.bootstrapOwner(OWNER_KEY, new Date())).toBe(false);
      expect((await h.http('DELETE', `/api/v1/keys/${other.id}`, { key: other.apiKey })).status).toBe(200);

      // What every start runs (onModuleInit), now that no owner key is active.
      expect(await store.bootstrapOwner(OWNER_KEY, new Date())).toBe(true);
      expect(await store.bootstrapOwner(OWNER_KEY, new Date())).toBe(false);

      expect(await h.http('GET', '/api/v1/auth/me', { key: OWNER_KEY })).toMatchObject({
        status: 200,
        body: { id: 'bootstrap-owner', role: 'owner' },
      });
      // A token of the revoked key stays refused: the recovery is a new key under the same id.
      expect((await h.http('GET', '/api/v1/auth/me', { token: oldToken })).status).toBe(401);
      const listed = await h.http('GET', '/api/v1/keys', { key: OWNER_KEY });
      const restored = listed.body.keys.find((k: { id: string }) => k.id === 'bootstrap-owner');
      expect(restored).toMatchObject({ role: 'owner', createdBy: 'api-gateway' });
      expect(restored.revokedAt).toBeUndefined();
      const probe = await connectProbe(h.ns);
      try {
        const { events } = await probe.eventStore.read(
          h.ns.naming.eventSubject('gateway', 'key', 'bootstrap-owner'),
        );
        expect(events.map((e) => e.envelope.type)).toEqual([
          'gateway.ApiKeyCreated',
          'gateway.ApiKeyRevoked',
          'gateway.ApiKeyCreated',
        ]);
      } finally {
        await probe.drain();
      }
    });
  });
});

/** Expiry is a wall-clock rule, so this waits on the clock passing a position, not a fixed sleep. */
async function waitUntil(epochMs: number): Promise<void> {
  while (Date.now() <= epochMs) await new Promise((resolve) => setTimeout(resolve, 50));
}
