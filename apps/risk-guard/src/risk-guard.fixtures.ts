import { Kvm } from '@nats-io/kv';
import { loadConfig } from '@bifrost/config';
import {
  infraFailureCode,
  type Envelope,
  type LedgerEntry,
  type LedgerView,
  type ReservationDecision,
  type ReserveReply,
  type RiskLimits,
} from '@bifrost/contracts';
import { Messaging } from '@bifrost/messaging';
import { RiskDesk } from './ledger/risk-desk';
import { startService, type RunningService } from '@bifrost/service';
import { freePort, waitFor, type TestNamespace } from '@bifrost/testing';
import { RiskGuardConfig, riskGuardService } from './risk-guard.service';

/** Starts risk-guard in this process on the test's namespace. */
export async function startRiskGuard(
  ns: TestNamespace,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const config = loadConfig(RiskGuardConfig, {
    NATS_URL: ns.natsUrl,
    BIFROST_NAMESPACE: ns.namespace,
    PORT: String(await freePort()),
    LOG_LEVEL: 'error',
    RISK_LEASE_MS: '3000',
    ...env,
  });
  return startService(riskGuardService, config, { host: '127.0.0.1' });
}

/** An instance of a namespace no other instance leads, once it leads. */
export async function startLeader(
  ns: TestNamespace,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const leader = await startRiskGuard(ns, env);
  await waitFor(() => leader.app.get(RiskDesk).isLeader, { what: 'the first instance leads' });
  return leader;
}

/** A second instance, started once another leads, and led by it once that one's lease runs out. */
export async function startSuccessor(
  ns: TestNamespace,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const successor = await startRiskGuard(ns, { RISK_SEED_POLICIES: 'false', ...env });
  await waitFor(() => successor.app.get(RiskDesk).isLeader, {
    timeoutMs: 10_000,
    what: 'the second instance takes over',
  });
  return successor;
}

/**
 * The process stalls: its timers (lease renewal, expiry sweep, snapshots) no longer run. It still
 * takes requests and believes it leads.
 */
export function stall(service: RunningService): void {
  for (const timer of (service.app.get(RiskDesk) as unknown as { timers: NodeJS.Timeout[] }).timers)
    clearInterval(timer);
}

/**
 * Puts a leader lease held by an instance that does not exist (a crashed leader's) until `ms` from
 * now: no instance can lead before it runs out.
 */
export async function occupyLease(client: Messaging, ms: number): Promise<void> {
  const kv = await new Kvm(client.js).open(client.naming.snapshotBucket);
  await kv.put('risk-guard.leader', JSON.stringify({ holder: 'crashed', expiresAt: Date.now() + ms }));
}

export function connectClient(ns: TestNamespace, name = 'engine'): Promise<Messaging> {
  return Messaging.connect({ url: ns.natsUrl, service: name, instanceId: 'c1', namespace: ns.namespace });
}

export const usd = (amount: number) => ({ amount, currency: 'USD' });
export const OPERATOR = { kind: 'operator' as const, id: 'alice' };

export function upsertPolicy(
  client: Messaging,
  policyId: string,
  loss: number,
  exposure: number,
  actions: number,
): Promise<unknown> {
  return client.rpc.call('bifrost.rpc.risk.cmd.upsert-policy', {
    actor: OPERATOR,
    reason: 'test limits',
    policyId,
    maxDailyLoss: usd(loss),
    maxDailyExposure: usd(exposure),
    maxDailyActions: actions,
    enabled: true,
  });
}

export function reserve(
  client: Messaging,
  engineId: string,
  key: string,
  loss: number,
  exposure = 0,
  extra: Record<string, unknown> = {},
): Promise<ReserveReply> {
  return client.rpc.call<ReserveReply>('bifrost.rpc.risk.reserve', {
    engineId,
    idempotencyKey: key,
    maxLoss: usd(loss),
    exposure: usd(exposure),
    ...extra,
  });
}

/** An engine's retry policy during failover: the same request (same idempotency key) until it is answered. */
export async function untilAnswered<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (attempt > 400 || !infraFailureCode(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

export function ledger(client: Messaging): Promise<LedgerView> {
  return client.rpc.call<LedgerView>('bifrost.rpc.risk.ledger', {});
}

/** Every ledger entry of a day, straight from the stream. */
export async function ledgerEntries(
  client: Messaging,
  ns: TestNamespace,
  day: string,
): Promise<LedgerEntry[]> {
  const { events } = await client.eventStore.read(ns.naming.eventSubject('risk', 'ledger', day));
  return events.flatMap((e) => (e.envelope.data as { entries: LedgerEntry[] }).entries);
}

/**
 * Every reserve decision recorded for these engines, straight from the stream, in order: the decisions
 * of each `risk.ReservationsDecided`, each with its record's id and limits.
 */
export async function decisionRecords(client: Messaging, ns: TestNamespace, ...engineIds: string[]) {
  const subjects = new Set(engineIds.map((engineId) => ns.naming.decisionSubject('risk', engineId)));
  const decisions: (ReservationDecision & { recordId: string; limits: Record<string, RiskLimits> })[] = [];
  const stream = ns.naming.streams.decisions.name;
  const info = await client.jsm.streams.info(stream);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
    const msg = await client.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (!msg || !subjects.has(msg.subject)) continue;
    const record =
      msg.json<Envelope<{ limits: Record<string, RiskLimits>; decisions: ReservationDecision[] }>>();
    expect(record.type).toBe('risk.ReservationsDecided');
    for (const decision of record.data.decisions)
      decisions.push({ ...decision, recordId: record.id, limits: record.data.limits });
  }
  return decisions;
}

/**
 * Holds risk-guard's next ledger append until `release()`: the requests sent meanwhile queue up on
 * the desk and are decided together, as the next batch. `restore()` in a `finally`.
 */
export function holdNextAppend(service: RunningService) {
  const messaging = service.app.get(Messaging);
  const append = messaging.eventStore.append.bind(messaging.eventStore);
  const held = deferred();
  const spy = jest.spyOn(messaging.eventStore, 'append').mockImplementationOnce(async (...args) => {
    await held.promise;
    return append(...args);
  });
  const desk = service.app.get(RiskDesk) as unknown as { queue: { request: { op: string } }[] };
  return {
    appending: () => spy.mock.calls.length > 0,
    /** Reserves waiting (the expiry sweep queues work of its own). */
    queued: () => desk.queue.filter((job) => job.request.op === 'reserve').length,
    release: held.resolve,
    restore: () => {
      held.resolve();
      spy.mockRestore();
    },
  };
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}
