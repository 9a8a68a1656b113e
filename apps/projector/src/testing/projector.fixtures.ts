import { type Envelope, type Naming } from '@bifrost/contracts';
import { Messaging, createEnvelope, uuidv7 } from '@bifrost/messaging';
import {
  createTestDatabase,
  createTestNamespace,
  waitFor,
  type TestDatabase,
  type TestNamespace,
} from '@bifrost/testing';
import { type DataSource } from 'typeorm';
import { AuditPins } from '../audit/audit-pins';
import { openProjectorDatabase } from '../persistence';
import { Projector, type ProjectorOptions } from '../projector/projector';
import { readModelTables } from '../read-models/registry';

/** Envelopes as the gate publishes them, for specs and the benchmark. */
export function gateEvents(naming: Naming) {
  const at = (offsetMs = 0) => new Date(Date.UTC(2026, 10, 21, 20, 42, 55, 123) + offsetMs).toISOString();
  const operator = { kind: 'operator' as const, id: 'op-7' };
  const control = (type: string, data: Record<string, unknown>) =>
    createEnvelope({
      type: `gate.${type}`,
      subject: naming.eventSubject('gate', 'control', 'global'),
      source: 'gate',
      actor: operator,
      data,
      occurredAt: at(),
    });
  const strategy = (engineId: string, strategyId: string, type: string, data: Record<string, unknown>) =>
    createEnvelope({
      type: `gate.${type}`,
      subject: naming.eventSubject('gate', 'strategy', `${engineId}:${strategyId}`),
      source: 'gate',
      actor: operator,
      data,
      occurredAt: at(),
    });
  return {
    at,
    killSwitchEngaged: (engineId?: string) =>
      control('KillSwitchEngaged', {
        actor: operator,
        ...(engineId ? { engineId } : {}),
        mode: 'soft',
        reason: 'drawdown',
        engagedAt: at(),
      }),
    killSwitchReleased: (engineId?: string) =>
      control('KillSwitchReleased', {
        actor: operator,
        ...(engineId ? { engineId } : {}),
        reason: 'ok',
        releasedAt: at(1),
      }),
    checklistFact: (item: string, passed: boolean) =>
      control('ChecklistFactRecorded', {
        actor: operator,
        item,
        passed,
        reportedBy: 'risk-guard',
        recordedAt: at(),
      }),
    engineMode: (engineId: string, mode: string) =>
      control('EngineModeSet', { actor: operator, engineId, mode, reason: 'trial', setAt: at() }),
    strategyRegistered: (engineId: string, strategyId: string) =>
      strategy(engineId, strategyId, 'StrategyRegistered', {
        engineId,
        strategyId,
        level: 'L0',
        capital: { amount: 1_000_000, currency: 'USD' },
        registeredAt: at(),
      }),
    outcomeRecorded: (engineId: string, strategyId: string, amount: number) =>
      strategy(engineId, strategyId, 'OutcomeRecorded', {
        outcomeId: uuidv7(),
        pnl: { amount, currency: 'USD' },
        level: 'L0',
        recordedAt: at(2),
      }),
    promoted: (engineId: string, strategyId: string) =>
      strategy(engineId, strategyId, 'MaturityPromoted', {
        from: 'L0',
        to: 'L1',
        evidence: { outcomes: 50, winRate: 0.52, profitFactor: 1.3 },
        promotedAt: at(3),
      }),
    tokenIssued: (engineId: string, strategyId: string, tokenId: string) =>
      strategy(engineId, strategyId, 'TokenIssued', {
        tokenId,
        scope: { actionKinds: ['order.place'] },
        maxNotional: null,
        expiresAt: at(60_000),
        singleUse: true,
        boundActionHash: null,
        approvalId: null,
        issuedBy: 'op-7',
        issuedAt: at(),
      }),
    tokenConsumed: (engineId: string, strategyId: string, tokenId: string) =>
      strategy(engineId, strategyId, 'TokenConsumed', {
        tokenId,
        actionHash: 'a'.repeat(64),
        singleUse: true,
        consumedAt: at(5),
      }),
    approvalRequested: (engineId: string, strategyId: string, approvalId: string) =>
      strategy(engineId, strategyId, 'ApprovalRequested', {
        approvalId,
        actionHash: 'b'.repeat(64),
        action: { kind: 'order.place', intent: 'open', notional: { amount: 125_000, currency: 'USD' } },
        requestedBy: 'eng-1',
        expiresAt: at(600_000),
        requestedAt: at(),
      }),
    approvalGranted: (engineId: string, strategyId: string, approvalId: string) =>
      strategy(engineId, strategyId, 'ApprovalGranted', {
        approvalId,
        approver: 'op-9',
        tokenId: `tok-${approvalId}`,
        tokenExpiresAt: at(900_000),
        grantedAt: at(10),
      }),
    verdict: (engineId: string, strategyId: string, action = 'ALLOW', params?: Record<string, unknown>) => {
      const decisionId = uuidv7();
      const request = {
        engineId,
        strategyId,
        action: {
          kind: 'order.place',
          intent: 'open',
          notional: { amount: 125_000, currency: 'USD' },
          ...(params ? { params } : {}),
        },
      };
      return createEnvelope({
        type: 'gate.VerdictRendered',
        subject: naming.decisionSubject('gate', engineId),
        source: 'gate',
        actor: { kind: 'engine', id: engineId },
        occurredAt: at(),
        data: {
          request,
          verdict: {
            decisionId,
            policyRevision: 'rev-1',
            action,
            sizeMultiplier: action === 'REDUCE_SIZE' ? 0.5 : 1,
            riskLevel: 'LOW',
            checks: [{ name: 'maturity', outcome: action, value: 'L3', threshold: 'L2', distanceToTrip: 1 }],
            mode: 'enforce',
            decidedAt: at(),
            engineId,
            strategyId,
            actionHash: 'c'.repeat(64),
          },
          latencyMicros: 420,
        },
      });
    },
  };
}

/** Envelopes as risk-guard publishes them, for specs and the benchmark. */
export function riskEvents(naming: Naming) {
  const at = (offsetMs = 0) => new Date(Date.UTC(2026, 10, 21, 20, 42, 55, 123) + offsetMs).toISOString();
  const day = '2026-11-21';
  const usd = (amount: number) => ({ amount, currency: 'USD' });
  const limits = { maxDailyLoss: usd(500_000), maxDailyExposure: usd(5_000_000), maxDailyActions: 10_000 };
  const usage = (n: number) => ({
    realizedLoss: n % 997,
    reservedLoss: 500,
    reservedExposure: 10_000,
    actions: n,
  });
  const system = { kind: 'system' as const, id: 'risk-guard' };
  /** One reserve decision: its request, its reply and the usage of GLOBAL and the engine policy after it. */
  const decision = (engineId: string, n: number, outcome: 'GRANTED' | 'DENIED' = 'GRANTED', offsetMs = 0) => {
    const reservationId = uuidv7();
    return {
      request: {
        engineId,
        idempotencyKey: `k-${reservationId}`,
        maxLoss: usd(500),
        exposure: usd(10_000),
      },
      reply: {
        reservationId,
        engineId,
        outcome,
        status: outcome,
        maxLoss: usd(500),
        exposure: usd(10_000),
        day,
        decidedAt: at(offsetMs),
        ...(outcome === 'GRANTED'
          ? { expiresAt: at(offsetMs + 30_000) }
          : { reason: 'THROTTLED' as const, failingPolicy: engineId }),
        replayed: false,
      },
      usage: { GLOBAL: usage(n), [engineId]: usage(n) },
    };
  };
  return {
    /** A record as risk-guard published them before `risk.ReservationsDecided`: its id is the reservation id. */
    reservationDecided: (engineId: string, n: number) => {
      const d = decision(engineId, n);
      return createEnvelope({
        id: d.reply.reservationId,
        type: 'risk.ReservationDecided',
        subject: naming.decisionSubject('risk', engineId),
        source: 'risk-guard',
        actor: { kind: 'engine', id: engineId },
        occurredAt: at(),
        data: { ...d, limits: { GLOBAL: limits, [engineId]: limits } },
      });
    },
    /**
     * One engine's decisions of a desk batch, as risk-guard publishes them: decision `i` (of
     * `outcomes`) after `n + i` actions, decided `offsetMs` after the fixtures' time.
     */
    reservationsDecided: (
      engineId: string,
      n: number,
      outcomes: readonly ('GRANTED' | 'DENIED')[] = ['GRANTED', 'GRANTED', 'GRANTED'],
      offsetMs = 0,
    ) =>
      createEnvelope({
        type: 'risk.ReservationsDecided',
        subject: naming.decisionSubject('risk', engineId),
        source: 'risk-guard',
        actor: { kind: 'engine', id: engineId },
        occurredAt: at(offsetMs),
        data: {
          limits: { GLOBAL: limits, [engineId]: limits },
          decisions: outcomes.map((outcome, i) => decision(engineId, n + i, outcome, offsetMs)),
        },
      }),
    reservationGrantedAndSettled: (engineId: string) => {
      const reservationId = uuidv7();
      return createEnvelope({
        type: 'risk.LedgerEntriesRecorded',
        subject: naming.eventSubject('risk', 'ledger', day),
        source: 'risk-guard',
        actor: system,
        occurredAt: at(),
        data: {
          day,
          entries: [
            {
              type: 'ReservationGranted',
              data: {
                reservationId,
                engineId,
                idempotencyKey: `k-${reservationId}`,
                maxLoss: usd(500),
                exposure: usd(10_000),
                grantedAt: at(),
                expiresAt: at(30_000),
                actor: { kind: 'engine', id: engineId },
              },
            },
            {
              type: 'ReservationSettled',
              data: {
                reservationId,
                engineId,
                realizedLoss: usd(120),
                excess: usd(0),
                exceededReservation: false,
                afterExpiry: false,
                settledAt: at(5_000),
                actor: { kind: 'engine', id: engineId },
              },
            },
          ],
        },
      });
    },
    /** The next day's opening, carrying `closing` (the final usage per policy of `day`). */
    nextDayOpened: (closing: Record<string, ReturnType<typeof usage>>) =>
      createEnvelope({
        type: 'risk.LedgerEntriesRecorded',
        subject: naming.eventSubject('risk', 'ledger', '2026-11-22'),
        source: 'risk-guard',
        actor: system,
        occurredAt: '2026-11-22T00:00:00.000Z',
        data: {
          day: '2026-11-22',
          entries: [
            {
              type: 'LedgerOpened',
              data: {
                day: '2026-11-22',
                timeZone: 'UTC',
                openedAt: '2026-11-22T00:00:00.000Z',
                previousDay: day,
                carriedOver: [],
                closing,
              },
            },
          ],
        },
      }),
    usage,
    policy: (policyId: string, type: string, data: Record<string, unknown> = {}) =>
      createEnvelope({
        type: `risk.${type}`,
        subject: naming.eventSubject('risk', 'policy', policyId),
        source: 'risk-guard',
        actor: system,
        occurredAt: at(),
        data: { policyId, cause: { kind: 'seed', id: 'seed' }, at: at(), ...data },
      }),
    limits,
  };
}

/**
 * The benchmark's traffic, message `n` of it: per 18 messages 11 gate verdicts and 1 reservation
 * decision record of 3 decisions (decision records dominate real traffic), 1 ledger append, 2
 * outcomes, 1 token event, 1 approval event and 1 of the rarer control, strategy and policy events,
 * over 20 engines × 5 strategies. Until risk-guard batched its decision records the cycle was 20
 * messages, with 3 one-decision records: the same rows per cycle.
 */
export const MIXED_CYCLE = 18;

export function mixedEvent(naming: Naming, n: number): Envelope {
  const gate = gateEvents(naming);
  const risk = riskEvents(naming);
  const engineId = `eng-${n % 20}`;
  const strategyId = `s-${Math.floor(n / 20) % 5}`;
  const round = Math.floor(n / MIXED_CYCLE);
  const slot = n % MIXED_CYCLE;
  if (slot <= 10) return gate.verdict(engineId, strategyId, slot === 10 ? 'BLOCK' : 'ALLOW');
  if (slot === 11) return risk.reservationsDecided(engineId, n);
  if (slot === 12) return risk.reservationGrantedAndSettled(engineId);
  if (slot <= 14) return gate.outcomeRecorded(engineId, strategyId, (n % 7) * 100 - 300);
  if (slot === 15)
    return round % 2 === 0
      ? gate.tokenIssued(engineId, strategyId, `tok-${round}`)
      : gate.tokenConsumed(engineId, strategyId, `tok-${round - 1}`);
  if (slot === 16)
    return round % 2 === 0
      ? gate.approvalRequested(engineId, strategyId, `ap-${round}`)
      : gate.approvalGranted(engineId, strategyId, `ap-${round - 1}`);
  const rare = [
    () => gate.strategyRegistered(engineId, strategyId),
    () => gate.promoted(engineId, strategyId),
    () => gate.checklistFact('canaryHealthy', round % 2 === 0),
    () => gate.engineMode(engineId, round % 2 === 0 ? 'observe' : 'enforce'),
    () => gate.killSwitchEngaged(engineId),
    () => gate.killSwitchReleased(engineId),
    () => risk.policy(engineId, 'PolicyDefined', { limits: risk.limits, enabled: true, previous: null }),
    () => risk.policy(engineId, 'PolicyThrottled'),
    () => risk.policy(engineId, 'PolicyThrottleLifted'),
  ];
  return (rare[round % rare.length] as () => Envelope)();
}

/** Publishes in parallel windows (each publish awaits its JetStream ack). */
export async function publishAll(
  client: Messaging,
  envelopes: readonly Envelope[],
  window = 200,
): Promise<void> {
  for (let i = 0; i < envelopes.length; i += window) {
    await Promise.all(envelopes.slice(i, i + window).map((envelope) => client.publisher.publish(envelope)));
  }
}

export const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function startProjector(
  client: Messaging,
  dataSource: DataSource,
  options: Partial<ProjectorOptions> = {},
): Projector {
  const projector = new Projector({
    js: client.js,
    jsm: client.jsm,
    naming: client.naming,
    catalogue: client.catalogue,
    dataSource,
    pins: new AuditPins(client),
    logger: silentLogger,
    lockPollMs: 50,
    idleMs: 100,
    ...options,
  });
  projector.start();
  return projector;
}

/** Stream last sequences, to wait until the projector has applied everything published so far. */
export async function streamEnds(client: Messaging): Promise<{ events: number; decisions: number }> {
  const events = await client.jsm.streams.info(client.naming.streams.events.name);
  const decisions = await client.jsm.streams.info(client.naming.streams.decisions.name);
  return { events: events.state.last_seq, decisions: decisions.state.last_seq };
}

/** Checkpoints as stored in Postgres (what survived the last commit). */
export async function storedCheckpoints(
  dataSource: DataSource,
  naming: Naming,
): Promise<{ events: number; decisions: number }> {
  const rows = await dataSource.query<{ stream: string; last_sequence: number }[]>(
    `SELECT stream, last_sequence FROM consumer_checkpoints WHERE consumer LIKE 'projector\\_\\_%'`,
  );
  const of = (name: string) => rows.find((row) => row.stream === name)?.last_sequence ?? 0;
  return { events: of(naming.streams.events.name), decisions: of(naming.streams.decisions.name) };
}

export async function caughtUp(client: Messaging, dataSource: DataSource): Promise<boolean> {
  const [ends, applied] = await Promise.all([
    streamEnds(client),
    storedCheckpoints(dataSource, client.naming),
  ]);
  return applied.events >= ends.events && applied.decisions >= ends.decisions;
}

/** Every read-model row, ordered, as JSON text: equal dumps mean equal read models. */
export async function dumpReadModels(dataSource: DataSource): Promise<Record<string, string[]>> {
  const dump: Record<string, string[]> = {};
  for (const table of readModelTables) {
    const rows = await dataSource.query<{ row: string }[]>(
      `SELECT to_jsonb(t)::text AS row FROM ${table} t ORDER BY 1`,
    );
    dump[table] = rows.map((r) => r.row);
  }
  return dump;
}

/** A namespace on the real NATS, a fresh database and a probe client on that namespace. */
export interface ProjectorTestBed {
  readonly ns: TestNamespace;
  readonly database: TestDatabase;
  /** Publishes and reads the namespace's streams as any client would. */
  readonly client: Messaging;
  /** Drains the client, drops the database and deletes the namespace's streams. */
  stop(): Promise<void>;
}

/**
 * The test bed plus the projector's own data source (migrated, as the projector opens it) and the
 * projectors started through it: `stop()` stops those first.
 */
export interface ProjectorHarness extends ProjectorTestBed {
  readonly dataSource: DataSource;
  /** Starts a projector on the harness's client and data source (options override either). */
  startProjector(options?: Partial<ProjectorOptions>): Projector;
  /** Waits until the stored checkpoints reach the end of both streams. */
  caughtUp(): Promise<void>;
  rows(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  count(table: string): Promise<number>;
}

export async function startProjectorTestBed(label: string): Promise<ProjectorTestBed> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const ns = await createTestNamespace(label);
    cleanups.push(() => ns.cleanup());
    const database = await createTestDatabase(label);
    cleanups.push(() => database.drop());
    const client = await Messaging.connect({
      url: ns.natsUrl,
      service: 'probe',
      instanceId: 'p1',
      namespace: ns.namespace,
    });
    cleanups.push(() => client.drain());
    return { ns, database, client, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function startProjectorHarness(label: string): Promise<ProjectorHarness> {
  const bed = await startProjectorTestBed(label);
  let dataSource: DataSource;
  try {
    dataSource = await openProjectorDatabase(bed.database.url);
  } catch (error) {
    await bed.stop();
    throw error;
  }
  const projectors: Projector[] = [];
  return {
    ...bed,
    dataSource,
    startProjector: (options = {}) => {
      const projector = startProjector(bed.client, dataSource, options);
      projectors.push(projector);
      return projector;
    },
    caughtUp: async () => {
      await waitFor(() => caughtUp(bed.client, dataSource), { what: 'projector caught up' });
    },
    rows: (sql, params) => dataSource.query<Record<string, unknown>[]>(sql, params),
    count: async (table) =>
      (await dataSource.query<{ n: number }[]>(`SELECT count(*) AS n FROM ${table}`))[0]?.n ?? 0,
    stop: async () => {
      await Promise.all(projectors.splice(0).map((projector) => projector.stop()));
      await dataSource.destroy();
      await bed.stop();
    },
  };
}
