import type { GateApprovalReply, GateCheckReply } from '@bifrost/contracts';
import { Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, startTestService, type TestNamespace } from '@bifrost/testing';
import { GateConfig, gateService } from '../gate.service';

const operator = { kind: 'operator' as const, id: 'alice' };
const otherOperator = { kind: 'operator' as const, id: 'bob' };

type Reply = { events: { type: string; data: Record<string, unknown> }[] };

describe('gate commands: execution tokens and approvals over NATS', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let gate: RunningService;

  const request = (name: string, body: Record<string, unknown>, actor = operator) =>
    client.rpc.request<Reply>(`bifrost.rpc.gate.cmd.${name}`, { actor, ...body });
  const command = (name: string, body: Record<string, unknown>, actor = operator) =>
    client.rpc.call<Reply>(`bifrost.rpc.gate.cmd.${name}`, { actor, ...body });
  const strategyEvents = async (engineId: string, strategyId: string) =>
    (
      await client.eventStore.read(ns.naming.eventSubject('gate', 'strategy', `${engineId}:${strategyId}`))
    ).events.map((e) => e.envelope);

  beforeAll(async () => {
    ns = await createTestNamespace('gtok');
    client = await Messaging.connect({
      url: ns.natsUrl,
      service: 'probe',
      instanceId: 'p',
      namespace: ns.namespace,
    });
    gate = await startTestService(GateConfig, gateService, ns);
  });
  afterAll(async () => {
    await gate.close();
    await client.drain();
    await ns.cleanup();
  });

  describe('When a token issue without a tokenId is sent again with its idempotencyKey', () => {
    const issue = (strategyId: string, overrides: Record<string, unknown> = {}) => ({
      engineId: 'i1',
      strategyId,
      idempotencyKey: 'issue-42',
      scope: { actionKinds: ['order.place'] },
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      singleUse: true,
      ...overrides,
    });

    it('should answer the retry with the token it issued, and issue no second one', async () => {
      await command('strategy.register', { engineId: 'i1', strategyId: 's1' });
      const body = issue('s1');

      const first = await command('strategy.token.issue', body);
      const retried = await command('strategy.token.issue', body);

      expect(first.events).toHaveLength(1);
      expect(first.events[0]).toMatchObject({ type: 'TokenIssued', data: { scope: body.scope } });
      expect(retried.events).toEqual(first.events);
      const issued = (await strategyEvents('i1', 's1')).filter((e) => e.type === 'gate.TokenIssued');
      expect(issued.map((e) => e.data['tokenId'])).toEqual([first.events[0]?.data['tokenId']]);
    });

    it('should refuse the same key with other parameters, and name another token on another strategy', async () => {
      await command('strategy.register', { engineId: 'i1', strategyId: 's2' });
      const body = issue('s2');
      const first = await command('strategy.token.issue', body);

      await expect(request('strategy.token.issue', { ...body, singleUse: false })).resolves.toMatchObject({
        ok: false,
        error: { code: 'GATE.TOKEN_EXISTS', message: expect.stringContaining('must repeat them') },
      });
      const onS1 = (await strategyEvents('i1', 's1')).find((e) => e.type === 'gate.TokenIssued');
      expect(first.events[0]?.data['tokenId']).not.toBe(onS1?.data['tokenId']);
    });

    it('should still issue a new token per request without a key', async () => {
      await command('strategy.register', { engineId: 'i1', strategyId: 's3' });
      const { idempotencyKey: _, ...body } = issue('s3');

      await command('strategy.token.issue', body);
      await command('strategy.token.issue', body);

      const issued = (await strategyEvents('i1', 's3')).filter((e) => e.type === 'gate.TokenIssued');
      expect(new Set(issued.map((e) => e.data['tokenId'])).size).toBe(2);
    });
  });

  describe('When every token of a strategy is revoked while an approval request is open', () => {
    it('should close the request: approving it afterwards issues no token, and a new check asks anew', async () => {
      await command('execution-class', {
        actionKind: 'order.place',
        executionClass: 'SANDBOX_EXEC',
        reason: 'test',
      });
      await command('strategy.register', { engineId: 'r1', strategyId: 's1' });
      await command('strategy.override-maturity', {
        engineId: 'r1',
        strategyId: 's1',
        level: 'L2',
        reason: 'gated',
      });
      const check = () =>
        client.rpc.call<GateCheckReply>('bifrost.rpc.gate.check', {
          engineId: 'r1',
          strategyId: 's1',
          action: { kind: 'order.place', intent: 'open' },
        });
      const asked = await check();
      expect(asked.action).toBe('REQUIRE_APPROVAL');
      const where = { engineId: 'r1', strategyId: 's1', approvalId: asked.approvalId };

      const revoked = await command('strategy.token.revoke-all', {
        engineId: 'r1',
        strategyId: 's1',
        reason: 'incident',
      });

      expect(revoked.events).toEqual([
        expect.objectContaining({
          type: 'ApprovalRejected',
          data: expect.objectContaining({
            approvalId: asked.approvalId,
            reason: 'every token revoked: incident',
          }),
        }),
      ]);
      await expect(request('strategy.approval.approve', { ...where }, otherOperator)).resolves.toMatchObject({
        ok: false,
        error: { code: 'GATE.APPROVAL_NOT_PENDING' },
      });
      expect((await strategyEvents('r1', 's1')).map((e) => e.type)).not.toContain('gate.TokenIssued');
      await expect(
        client.rpc.call<GateApprovalReply>('bifrost.rpc.gate.approval', where),
      ).resolves.toMatchObject({ status: 'rejected', decidedBy: operator.id, token: null });
      const again = await check();
      expect(again.action).toBe('REQUIRE_APPROVAL');
      expect(again.approvalId).not.toBe(asked.approvalId);
    });
  });
});
