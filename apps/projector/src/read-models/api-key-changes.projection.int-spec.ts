import { createEnvelope } from '@bifrost/messaging';
import { publishAll, startProjectorHarness, type ProjectorHarness } from '../testing/projector.fixtures';

describe('API key changes read model against real NATS and Postgres', () => {
  let h: ProjectorHarness;

  beforeAll(async () => {
    h = await startProjectorHarness('projkeys');
    h.startProjector();
  });
  afterAll(() => h?.stop());

  it('should list each creation and revocation with who made it, and audit them', async () => {
    const admin = { kind: 'operator' as const, id: 'a1b2c3d4e5f60718' };
    const change = (type: string, data: Record<string, unknown>, occurredAt: string) =>
      createEnvelope({
        type: `gateway.${type}`,
        subject: h.ns.naming.eventSubject('gateway', 'key', 'feedc0de12345678'),
        source: 'api-gateway',
        actor: admin,
        occurredAt,
        data: { keyId: 'feedc0de12345678', ...data },
      });

    await publishAll(
      h.client,
      [
        change(
          'ApiKeyCreated',
          { name: 'bot key', role: 'engine', engineId: 'bot-7', expiresAt: '2027-01-01T00:00:00.000Z' },
          '2026-11-22T09:00:00.000Z',
        ),
        change('ApiKeyRevoked', { role: 'engine' }, '2026-11-22T10:00:00.000Z'),
      ],
      1,
    );
    await h.caughtUp();

    expect(
      await h.rows(
        `SELECT key_id, change, role, name, engine_id, expires_at, actor_kind, actor_id, changed_at
         FROM api_key_changes ORDER BY changed_at`,
      ),
    ).toEqual([
      {
        key_id: 'feedc0de12345678',
        change: 'created',
        role: 'engine',
        name: 'bot key',
        engine_id: 'bot-7',
        expires_at: new Date('2027-01-01T00:00:00.000Z'),
        actor_kind: 'operator',
        actor_id: admin.id,
        changed_at: new Date('2026-11-22T09:00:00.000Z'),
      },
      {
        key_id: 'feedc0de12345678',
        change: 'revoked',
        role: 'engine',
        name: null,
        engine_id: null,
        expires_at: null,
        actor_kind: 'operator',
        actor_id: admin.id,
        changed_at: new Date('2026-11-22T10:00:00.000Z'),
      },
    ]);
    expect(
      await h.rows(`SELECT event_type FROM audit_log WHERE event_type LIKE 'gateway.%' ORDER BY seq`),
    ).toEqual([{ event_type: 'gateway.ApiKeyCreated' }, { event_type: 'gateway.ApiKeyRevoked' }]);
  });
});
