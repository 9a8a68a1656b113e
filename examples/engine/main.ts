/**
 * A runnable example engine: before every trade it asks the gate (waiting for an operator's approval
 * when the gate asks for one), reserves risk capacity, "executes", settles and reports the outcome. Bifrost out of reach? Checks fail closed (BLOCK) and outcomes wait
 * in the SDK's buffer until the connection is back.
 *
 *   NATS_URL=nats://127.0.0.1:4222 ENGINE_ID=demo-engine node -r @swc-node/register examples/engine/main.ts
 *   BIFROST_GATEWAY_URL=http://127.0.0.1:3000 BIFROST_API_KEY=… ENGINE_ID=demo-engine node -r @swc-node/register examples/engine/main.ts
 */
import { randomUUID } from 'node:crypto';
import { createClient, type BifrostClient, type SdkLogger } from '@bifrost/sdk';

interface EngineConfig {
  readonly natsUrl?: string;
  readonly gatewayUrl?: string;
  readonly apiKey?: string;
  readonly namespace?: string;
  readonly engineId: string;
  readonly strategyId: string;
  readonly intervalMs: number;
}

/** Read once at start; every problem reported together. */
function loadConfig(env: NodeJS.ProcessEnv): EngineConfig {
  const problems: string[] = [];
  const natsUrl = env['NATS_URL'] || undefined;
  const gatewayUrl = env['BIFROST_GATEWAY_URL'] || undefined;
  if (!natsUrl && !gatewayUrl) problems.push('set NATS_URL or BIFROST_GATEWAY_URL');
  if (gatewayUrl && !env['BIFROST_API_KEY'])
    problems.push('BIFROST_API_KEY is required with BIFROST_GATEWAY_URL');
  const intervalMs = Number(env['ENGINE_INTERVAL_MS'] ?? 2_000);
  if (!Number.isInteger(intervalMs) || intervalMs < 100)
    problems.push('ENGINE_INTERVAL_MS must be an integer ≥ 100');
  if (problems.length > 0) throw new Error(`example engine: ${problems.join('; ')}`);
  return {
    // NATS wins when both are set: it is the engines' native transport.
    ...(natsUrl ? { natsUrl } : { gatewayUrl, apiKey: env['BIFROST_API_KEY'] }),
    namespace: env['BIFROST_NAMESPACE'] || undefined,
    engineId: env['ENGINE_ID'] || 'demo-engine',
    strategyId: env['STRATEGY_ID'] || 'mean-reversion',
    intervalMs,
  };
}

const log = (message: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), message, ...fields })}\n`);
};
const logger: SdkLogger = { info: log, warn: log, error: log };

/** How long a trade waits for an operator's approval (a strategy at L2 needs one for every order). */
const APPROVAL_WAIT_MS = 5 * 60_000;

/** One trading decision, end to end; `stopping` aborts a wait for an approval. */
async function tradeOnce(bifrost: BifrostClient, strategyId: string, stopping: AbortSignal): Promise<void> {
  // $500: a LOW-impact order (a currency without impact thresholds would count as CRITICAL).
  const notional = { amount: 50_000, currency: 'USD' };
  const request = {
    strategyId,
    action: { kind: 'order.place', intent: 'open' as const, notional, instrument: 'EURUSD' },
    impact: { irreversible: false, blastRadius: 'single' as const, concentration: 0.05 },
    confidence: 0.8,
  };
  let verdict = await bifrost.check(request);
  if (!verdict.failClosed && verdict.action === 'REQUIRE_APPROVAL' && verdict.approvalId) {
    // Ask the same action again, with the token, once an operator approved this one.
    log('waiting for an operator to approve', { approvalId: verdict.approvalId });
    const decided = await bifrost
      .awaitApproval(
        { strategyId, approvalId: verdict.approvalId },
        { timeoutMs: APPROVAL_WAIT_MS, signal: stopping },
      )
      .catch((error: Error) => log('could not learn the approval', { error: error.message }));
    if (!decided || decided.status !== 'granted' || decided.token?.status !== 'active') {
      log('not approved', { approvalId: verdict.approvalId, status: decided?.status });
      return;
    }
    verdict = await bifrost.check({ ...request, tokenId: decided.token.tokenId });
  }
  if (verdict.failClosed) {
    log('blocked: Bifrost could not decide', { code: verdict.code, reason: verdict.reason });
    return;
  }
  if (verdict.action !== 'ALLOW' && verdict.action !== 'REDUCE_SIZE') {
    const why = verdict.checks
      .filter((c) => c.outcome !== 'ALLOW')
      .map((c) => `${c.name}: ${c.reason ?? c.outcome}`);
    log(`not acting: ${verdict.action}`, { decisionId: verdict.decisionId, why });
    return;
  }
  const size = Math.floor(notional.amount * verdict.sizeMultiplier);
  const wanted = {
    maxLoss: { amount: Math.ceil(size / 10), currency: 'USD' },
    exposure: { amount: size, currency: 'USD' },
  };
  const reservation = await bifrost.reserve({ idempotencyKey: verdict.decisionId, ...wanted, strategyId });
  if (reservation.outcome !== 'GRANTED') {
    log('reservation denied', { reason: reservation.reason });
    return;
  }
  // A key seen before answers its original amounts and the reservation's status now (EXPIRED after
  // its TTL, SETTLED…): act only on a live grant of what was asked for.
  if (
    reservation.status !== 'GRANTED' ||
    reservation.maxLoss.amount !== wanted.maxLoss.amount ||
    reservation.exposure.amount !== wanted.exposure.amount
  ) {
    log('reservation not usable', { status: reservation.status, replayed: reservation.replayed });
    return;
  }
  // Stand-in for the real order: a random result between −2 % and +3 % of the size.
  const pnl = Math.round(size * (Math.random() * 0.05 - 0.02));
  await bifrost
    .settle({
      reservationId: reservation.reservationId,
      realizedLoss: { amount: Math.max(0, -pnl), currency: 'USD' },
    })
    .catch((error: Error) =>
      log('settle failed; the reservation expires on its own', { error: error.message }),
    );
  bifrost.recordOutcome({
    strategyId,
    outcomeId: randomUUID(),
    pnl: { amount: pnl, currency: 'USD' },
    decisionId: verdict.decisionId,
  });
  log('traded', { action: verdict.action, size, pnl, bufferDepth: bifrost.bufferDepth });
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const bifrost = createClient({
    ...(config.natsUrl
      ? { natsUrl: config.natsUrl }
      : { gatewayUrl: config.gatewayUrl, apiKey: config.apiKey }),
    ...(config.namespace ? { namespace: config.namespace } : {}),
    engineId: config.engineId,
    logger,
  });
  bifrost.on('dropped', (event) => log('telemetry dropped', { ...event }));
  log('engine started', { engineId: config.engineId, transport: bifrost.transportKind });
  // The client connects in the background; over NATS a check before that fails closed: wait a little.
  if (!(await bifrost.whenConnected(5_000))) log('not connected yet: checks fail closed until it is');

  let running = true;
  let wake: () => void = () => undefined;
  const stopping = new AbortController();
  const stop = (): void => {
    running = false;
    stopping.abort();
    wake();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  while (running) {
    await tradeOnce(bifrost, config.strategyId, stopping.signal);
    // A signal during the trade called the previous (already spent) wake: do not wait a full interval.
    if (!running) break;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, config.intervalMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  // Closing after the loop, not in the signal handler, so no trade is cut in half.
  const { undelivered } = await bifrost.close();
  log('engine stopped', { undelivered });
}

main().catch((error: Error) => {
  log('engine failed', { error: error.message });
  process.exitCode = 1;
});
