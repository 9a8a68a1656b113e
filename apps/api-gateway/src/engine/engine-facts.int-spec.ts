import { startGatewayStack, type GatewayStack } from '../testing/gateway.fixtures';

const ENGINE = 'gw-facts';
const MAX_AGE_MS = 30 * 86_400_000;

describe('engine facts dated by Occurred-At, over the real ingest stream', () => {
  let h: GatewayStack;

  beforeAll(async () => {
    h = await startGatewayStack('gwfacts', { engineId: ENGINE });
  });
  afterAll(() => h?.close());

  const post = (outcomeId: string, occurredAt: string) =>
    h.http('POST', '/api/v1/engine/outcome', {
      key: h.keys.engine,
      headers: { 'occurred-at': occurredAt },
      body: { engineId: ENGINE, strategyId: 's1', outcomeId, pnl: { amount: 5, currency: 'USD' } },
    });
  const ingestMessages = async () =>
    (await h.probe.jsm.streams.info(h.ns.naming.streams.ingest.name)).state.messages;

  describe('Given the default maximum age of 30 days', () => {
    it('should refuse a fact dated on the first day of year 1 with 400, naming the header and the limit, publishing nothing', async () => {
      const before = await ingestMessages();

      const response = await post('o-year-1', '0001-01-01T00:00:00.000Z');

      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({
        type: '/problems/validation-failed',
        status: 400,
        code: 'INGEST.OCCURRED_AT_TOO_OLD',
        detail: expect.stringMatching(
          /^occurred-at 0001-01-01T00:00:00\.000Z is older than a fact may be \(2592000 s, GATEWAY_FACT_MAX_AGE_SECONDS\)/,
        ),
        details: { maxAgeSeconds: 2_592_000, oldestAccepted: expect.any(String) },
      });
      expect(await ingestMessages()).toBe(before);
    });

    it('should refuse one 30 days and a millisecond old, and store one just inside the limit with its time', async () => {
      // The gateway's clock reads later than this one, so a fact dated here is at least this old there.
      const now = Date.now();
      const tooOld = await post('o-too-old', new Date(now - MAX_AGE_MS - 1).toISOString());
      const insideAt = new Date(now - MAX_AGE_MS + 60_000).toISOString();
      const inside = await post('o-inside', insideAt);

      expect(tooOld).toMatchObject({ status: 400, body: { code: 'INGEST.OCCURRED_AT_TOO_OLD' } });
      expect(inside.status).toBe(202);
      const stored = await h.probe.jsm.streams.getMessage(h.ns.naming.streams.ingest.name, {
        seq: inside.body.sequence,
      });
      expect(stored?.json()).toMatchObject({ occurredAt: insideAt, data: { outcomeId: 'o-inside' } });
    });
  });
});
