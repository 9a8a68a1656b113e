import { openDataSource } from '@bifrost/persistence';
import { createTestDatabase, type TestDatabase } from '@bifrost/testing';
import { gatewayMigrations } from './gateway-database';
import { BootstrapKeyCreator1732400000100 } from './1732400000100-bootstrap-key-creator.migration';

const HASH = 'a'.repeat(64);

describe('migration BootstrapKeyCreator1732400000100', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('migration-gw100');
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe('Given a bootstrap owner key stored as created by "environment"', () => {
    it('should name the gateway as its creator, as its audit event does, and leave other keys alone', async () => {
      const old = await openDataSource({
        url: db.url,
        entities: [],
        migrations: gatewayMigrations.slice(0, gatewayMigrations.indexOf(BootstrapKeyCreator1732400000100)),
      });
      await old.query(
        `INSERT INTO api_keys (id, name, role, key_hash, created_by) VALUES
           ('bootstrap-owner', 'bootstrap owner', 'owner', $1, 'environment'),
           ('k-1', 'ops', 'operator', $2, 'environment')`,
        [HASH, 'b'.repeat(64)],
      );
      await old.destroy();

      const current = await openDataSource({ url: db.url, entities: [], migrations: gatewayMigrations });
      try {
        expect(await current.query(`SELECT id, created_by FROM api_keys ORDER BY id`)).toEqual([
          { id: 'bootstrap-owner', created_by: 'api-gateway' },
          { id: 'k-1', created_by: 'environment' },
        ]);
      } finally {
        await current.destroy();
      }
    });
  });
});
