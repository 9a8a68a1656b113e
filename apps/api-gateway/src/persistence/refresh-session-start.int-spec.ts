import { openDataSource } from '@bifrost/persistence';
import { createTestDatabase, type TestDatabase } from '@bifrost/testing';
import { gatewayMigrations } from './gateway-database';
import { RefreshSessionStart1732400000200 } from './1732400000200-refresh-session-start.migration';

const before = gatewayMigrations.slice(0, gatewayMigrations.indexOf(RefreshSessionStart1732400000200));

describe('migration RefreshSessionStart1732400000200', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('migration-gw200');
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe('Given refresh tokens stored before sessions had a start', () => {
    it('should start each token’s session at its own creation, and be undone by its down', async () => {
      const old = await openDataSource({ url: db.url, entities: [], migrations: before });
      await old.query(
        `INSERT INTO api_keys (id, name, role, key_hash, created_by) VALUES ('k-1', 'ops', 'operator', $1, 'test')`,
        ['a'.repeat(64)],
      );
      await old.query(
        `INSERT INTO refresh_tokens (id, key_id, token_hash, created_at, expires_at) VALUES
           ('00000000-0000-7000-8000-000000000001', 'k-1', 'h1', '2026-12-01T10:00:00Z', '2026-12-08T10:00:00Z'),
           ('00000000-0000-7000-8000-000000000002', 'k-1', 'h2', '2026-12-05T08:30:00Z', '2026-12-12T08:30:00Z')`,
      );
      await old.destroy();

      const current = await openDataSource({ url: db.url, entities: [], migrations: gatewayMigrations });
      try {
        const rows = (await current.query(
          `SELECT token_hash, session_started_at FROM refresh_tokens ORDER BY token_hash`,
        )) as { token_hash: string; session_started_at: Date }[];
        expect(rows.map((r) => [r.token_hash, r.session_started_at.toISOString()])).toEqual([
          ['h1', '2026-12-01T10:00:00.000Z'],
          ['h2', '2026-12-05T08:30:00.000Z'],
        ]);
        await expect(
          current.query(
            `INSERT INTO refresh_tokens (id, key_id, token_hash, expires_at) VALUES
               ('00000000-0000-7000-8000-000000000003', 'k-1', 'h3', now())`,
          ),
        ).rejects.toThrow(/session_started_at/);

        await current.undoLastMigration();
        const columns = (await current.query(
          `SELECT column_name FROM information_schema.columns WHERE table_name = 'refresh_tokens'`,
        )) as { column_name: string }[];
        expect(columns.map((c) => c.column_name)).not.toContain('session_started_at');
      } finally {
        await current.destroy();
      }
    });
  });
});
