import type { Messaging } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { createTestNamespace, waitFor, type TestNamespace } from '@bifrost/testing';
import { HeimdallCommands } from './commands/heimdall-commands.service';
import {
  command,
  connectClient,
  evaluate,
  OPERATOR,
  publishTrials,
  startHeimdall,
  waitForTrials,
} from './heimdall.fixtures';
import { HeimdallState } from './state/heimdall-state';

const ENGINE = 'route-bot';
const ROUTE = 'CAPITAL_ROUTE';
// The default: verified every 500 ms, so a replica whose tail is fine stays current through a
// stall of the machine of over a second.
const MAX_LAG_MS = 2_000;

describe('heimdall replicas: a replica answers only from state proven current', () => {
  let ns: TestNamespace;
  let client: Messaging;
  const running: RunningService[] = [];

  const start = async (): Promise<RunningService> => {
    const service = await startHeimdall(ns, { HEIMDALL_MAX_STATE_LAG_MS: String(MAX_LAG_MS) });
    running.push(service);
    return service;
  };
  const ask = () =>
    client.rpc.request('bifrost.rpc.heimdall.evaluate', {
      engineId: ENGINE,
      domain: ROUTE,
      confidence: 0.99,
    });

  beforeAll(async () => {
    ns = await createTestNamespace('heimrep');
    client = await connectClient(ns);
  });
  afterAll(async () => {
    for (const service of running) await service.close().catch(() => undefined);
    await client.drain();
    await ns.cleanup();
  });

  it('should stop answering once its tail falls behind a demotion made through another replica', async () => {
    const cut = await start();
    await command(client, 'cmd.upsert-policy', {
      domain: ROUTE,
      minConfidence: 0.9,
      minSandboxTrials: 3,
      minSandboxSuccessRate: 0.5,
    });
    await publishTrials(client, ns, { engineId: ENGINE, domain: ROUTE, prefix: 'r' }, 3);
    await waitForTrials(client, ROUTE, 3);
    await command(client, 'cmd.enable-prod-use', { domain: ROUTE });
    // Idle for longer than the limit: a replica whose tail is fine goes on proving itself current.
    await new Promise((resolve) => setTimeout(resolve, 3 * MAX_LAG_MS));
    expect((await evaluate(client, { engineId: ENGINE, domain: ROUTE, confidence: 0.99 })).outcome).toBe(
      'ELIGIBLE',
    );

    const other = await start();
    // The tail of `cut` stops delivering; its NATS connection and its verification go on.
    await cut.app.get(HeimdallState).context.stop();
    await other.app
      .get(HeimdallCommands)
      .disableProdUse({ actor: OPERATOR, reason: 'incident', domain: ROUTE });
    await other.close();

    // Within the limit it may still answer from the state before the demotion; past it, never.
    const refused = await waitFor(
      async () => {
        const reply = await ask();
        return !reply.ok && reply;
      },
      { timeoutMs: 10 * MAX_LAG_MS, intervalMs: 100, what: 'the cut replica to refuse evaluations' },
    );
    expect(refused.error).toMatchObject({ code: 'INFRA.STATE_STALE' });
    expect(await ask()).toMatchObject({ ok: false, error: { code: 'INFRA.STATE_STALE' } });
    // Nor does it show the domains as it last knew them (prod use still enabled).
    expect(await client.rpc.request('bifrost.rpc.heimdall.policies', {})).toMatchObject({
      ok: false,
      error: { code: 'INFRA.STATE_STALE' },
    });
    const ready = await fetch(`${cut.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { 'heimdall-state': { ok: false } } });
    const metrics = await (await fetch(`${cut.url}/metrics`)).text();
    const staleness = /bifrost_heimdall_state_staleness_seconds\{service="heimdall"\} ([\d.e+-]+)/.exec(
      metrics,
    )?.[1];
    expect(Number(staleness)).toBeGreaterThan(MAX_LAG_MS / 1000);
  }, 60_000);
});
