import { Client } from 'pg';
import type { ProbeConfig } from '@bifrost/contracts';
import type { Messaging } from '@bifrost/messaging';
import { createTestNamespace, infra, type TestNamespace } from '@bifrost/testing';
import { connectClient } from '../canary.fixtures';
import { runCheck } from './probe-checks';

describe('a nats probe', () => {
  let ns: TestNamespace;
  beforeAll(async () => {
    ns = await createTestNamespace('canarynats');
  });
  afterAll(() => ns.cleanup());

  it('should fail when its own NATS connection is closed: nothing made the round trip', async () => {
    const messaging = await connectClient(ns);
    await messaging.nc.close();
    const probe: ProbeConfig = {
      name: 'nats',
      kind: 'nats',
      target: 'bifrost.rpc.canary.ping',
      intervalMs: 1_000,
      timeoutMs: 1_000,
      failureThreshold: 1,
      recoveryThreshold: 1,
      action: 'alert_only',
    };
    expect(await runCheck(probe, { messaging })).toMatchObject({
      passed: false,
      detail: expect.stringContaining('INFRA.CONNECTION_CLOSED'),
    });
  });
});

describe('a postgres probe against the database the services use', () => {
  const table = `canary_probe_victim_${process.pid}`;
  let admin: Client;
  let deps: { messaging: Messaging; databaseUrl: string };
  const probe = (query?: string): ProbeConfig => ({
    name: 'db',
    kind: 'postgres',
    target: '$DATABASE_URL',
    intervalMs: 1_000,
    timeoutMs: 5_000,
    failureThreshold: 1,
    recoveryThreshold: 1,
    action: 'alert_only',
    ...(query === undefined ? {} : { query }),
  });
  const tableExists = async (name: string) =>
    (await admin.query('SELECT to_regclass($1) AS t', [name])).rows[0].t !== null;

  beforeAll(async () => {
    const { databaseUrl } = await infra();
    // A postgres check never touches the bus.
    deps = { messaging: undefined as unknown as Messaging, databaseUrl };
    admin = new Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`CREATE TABLE ${table} (x int)`);
  });
  afterAll(async () => {
    await admin.query(`DROP TABLE IF EXISTS ${table}, ${table}_new`);
    await admin.end();
  });

  it('should pass on a query that reads', async () => {
    expect(await runCheck(probe(), deps)).toMatchObject({ passed: true, detail: 'ok' });
    expect(await runCheck(probe('select count(*) from pg_class'), deps)).toMatchObject({ passed: true });
  });

  it('should fail, changing nothing, on a query that writes or carries a second statement', async () => {
    const smuggled = await runCheck(probe(`select 1; drop table ${table}`), deps);
    const writes = await runCheck(probe(`create table ${table}_new (x int)`), deps);
    const escapes = await runCheck(probe(`commit; drop table ${table}`), deps);

    expect(smuggled).toMatchObject({ passed: false, detail: expect.stringContaining('multiple commands') });
    expect(writes).toMatchObject({ passed: false, detail: expect.stringContaining('read-only transaction') });
    expect(escapes.passed).toBe(false);
    expect(await tableExists(table)).toBe(true);
    expect(await tableExists(`${table}_new`)).toBe(false);
  });
});
