import { Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, startTestService, type TestNamespace } from '@bifrost/testing';
import { GateConfig, gateService } from '../gate.service';

const operator = { kind: 'operator' as const, id: 'alice' };

describe('gate commands: the text an operator writes', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let gate: RunningService;

  const engage = (reason: string) =>
    client.rpc.request('bifrost.rpc.gate.cmd.kill-switch.engage', {
      actor: operator,
      engineId: 'e1',
      mode: 'hard',
      reason,
    });
  const controlEvents = async () =>
    (await client.eventStore.read(ns.naming.eventSubject('gate', 'control', 'global'))).events.map(
      (e) => e.envelope.type,
    );

  beforeAll(async () => {
    ns = await createTestNamespace('gtxt');
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

  describe('When a kill switch reason holds a bidi override or an ANSI escape', () => {
    it.each([
      ['a bidi override', 'losses \u202Edetcepxe\u202C'],
      ['an ANSI escape', '\u001b[31mengaged by root\u001b[0m'],
      ['a forged log line', 'incident\r\n{"level":30,"msg":"kill switch released"}'],
    ])('should refuse %s with RPC.VALIDATION_FAILED and record nothing', async (_, reason) => {
      await expect(engage(reason)).resolves.toEqual({
        ok: false,
        error: {
          code: 'RPC.VALIDATION_FAILED',
          message: expect.stringContaining('/reason must not be blank nor contain control characters'),
          details: [
            {
              path: '/reason',
              message:
                'must not be blank nor contain control characters (but tab and line feed) or bidirectional overrides',
            },
          ],
        },
      });
      expect(await controlEvents()).not.toContain('gate.KillSwitchEngaged');
    });
  });

  describe('When the reason is text in any script, over several lines', () => {
    it('should engage the kill switch', async () => {
      await expect(engage('異常な損失 — arrêt\nsee incident 42 🚨')).resolves.toMatchObject({ ok: true });
      expect(await controlEvents()).toContain('gate.KillSwitchEngaged');
    });
  });
});
