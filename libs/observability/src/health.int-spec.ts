import { infra } from '@bifrost/testing';
import { Client } from 'pg';
import { postgresHealthIndicator } from './health';

describe('postgresHealthIndicator against a real Postgres', () => {
  it('should be ok while connected and fail once the connection is gone', async () => {
    const client = new Client({ connectionString: (await infra()).databaseUrl });
    await client.connect();
    const indicator = postgresHealthIndicator(client);

    expect(indicator.name).toBe('postgres');
    await expect(indicator.check()).resolves.toEqual({ ok: true });

    await client.end();
    await expect(Promise.resolve().then(() => indicator.check())).rejects.toThrow();
  });
});
