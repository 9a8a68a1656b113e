// eslint-disable-next-line @nx/enforce-module-boundaries -- specs start other apps for real
import { GateConfig, gateService } from '@bifrost/gate/src/gate.service';
import { peer, startGatewayStack, type GatewayStack } from '../testing/gateway.fixtures';

describe('command and key routes: the text an operator writes', () => {
  let h: GatewayStack<'gate'>;

  beforeAll(async () => {
    h = await startGatewayStack('gwtxt', {
      engineId: 'txt-bot',
      peers: { gate: peer(GateConfig, gateService) },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  const engage = (reason: string) =>
    h.http('POST', '/api/v1/control/kill-switch/engage', {
      key: h.keys.operator,
      body: { engineId: 'txt-bot', mode: 'hard', reason },
    });

  it.each([
    ['a bidi override', 'losses \u202Edetcepxe\u202C'],
    ['an ANSI escape', '\u001b[31mengaged by root\u001b[0m'],
  ])('should answer a reason holding %s with 400 problem+json', async (_, reason) => {
    const response = await engage(reason);

    expect(response).toMatchObject({
      status: 400,
      body: {
        type: '/problems/validation-failed',
        code: 'REQUEST.INVALID',
        issues: [
          {
            path: '/reason',
            message:
              'must not be blank nor contain control characters (but tab and line feed) or bidirectional overrides',
          },
        ],
      },
    });
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('should answer a key name holding a bidi override with 400 problem+json', async () => {
    const response = await h.http('POST', '/api/v1/keys', {
      key: h.keys.admin,
      body: { name: 'ops \u202Eyek-nimda', role: 'viewer' },
    });

    expect(response).toMatchObject({
      status: 400,
      body: { code: 'REQUEST.INVALID', issues: [{ path: '/name' }] },
    });
  });

  it('should pass text in any script, over several lines, on to the gate', async () => {
    const reason = '異常な損失 — arrêt\nsee incident 42 🚨';
    expect(await engage(reason)).toMatchObject({
      status: 200,
      body: { events: [{ type: 'KillSwitchEngaged', data: { reason } }] },
    });
  });
});
