import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Kvm } from '@nats-io/kv';
import type { Subscription } from '@nats-io/nats-core';
import {
  GLOBAL_POLICY_ID,
  infraFailureCode,
  type Actor,
  type Envelope,
  type LedgerEntry,
  type LedgerView,
  type ReconcileRequest,
  type ReleaseRequest,
  type ReservationDecision,
  type ReservationReply,
  type ReserveReply,
  type ReserveRequest,
  type RiskLimits,
  type RiskPolicy,
  type SettleRequest,
} from '@bifrost/contracts';
import {
  assertTimeZone,
  decideLedger,
  findReservation,
  ledgerView,
  policyDecider,
  reservationChecks,
  reservationResult,
  reserveResult,
  seedPolicyCommands,
  type LedgerCommand,
  type LedgerContext,
  type LedgerState,
  type PolicyCommand,
} from '@bifrost/domain-risk';
import {
  BifrostError,
  ConcurrencyError,
  InternalError,
  TransientError,
  ValidationError,
  type BifrostErrorOptions,
} from '@bifrost/event-sourcing';
import {
  createEnvelope,
  Messaging,
  RPC_OBSERVER,
  serveRpc,
  uuidv7,
  type RpcObserver,
  type RpcServer,
} from '@bifrost/messaging';
import { HealthRegistry } from '@bifrost/observability';
import { ServiceInfo } from '@bifrost/service';
import { RISK_GUARD_CONFIG, assertRiskGuardConfig, type RiskGuardConfig } from '../risk-guard.config';
import { RiskMetrics } from '../risk.metrics';
import {
  installationCurrency,
  policiesInForce,
  RiskBookStore,
  type RiskBook,
  type Versioned,
} from './risk-book.store';
import { LeaderLease } from './leader-lease';

/** What callers ask of the desk; the leader decides them one at a time, in arrival order. */
export type RiskRequest =
  | { op: 'reserve'; request: ReserveRequest }
  | { op: 'settle'; request: SettleRequest }
  | { op: 'release'; request: ReleaseRequest }
  | { op: 'reconcile'; request: ReconcileRequest }
  | { op: 'policy'; command: PolicyCommand; actor: Actor }
  | { op: 'policies' }
  | { op: 'ledger' };

const REQUEST_OPS: ReadonlySet<unknown> = new Set<RiskRequest['op']>([
  'reserve',
  'settle',
  'release',
  'reconcile',
  'policy',
  'policies',
  'ledger',
]);

/** Requests plus the desk's own work: the expiry sweep, and reading policies changed by others. */
type QueuedRequest = RiskRequest | { op: 'expire' } | { op: 'reload-policies' };

/** Policy changes run one at a time, never inside a batch of ledger commands. */
const runsAlone = (request: QueuedRequest) => request.op === 'policy' || request.op === 'reload-policies';

interface Job {
  readonly request: QueuedRequest;
  /**
   * Fixed once per request, so a retried decision reuses it (decision record dedupe); a new one only
   * when the retry is decided afresh on a new day (see `decide`).
   */
  reservationId: string;
  readonly receivedAt: bigint;
  attempts: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Decided {
  readonly job: Job;
  readonly reply?: unknown;
  /** A fresh reserve decision, to store in its engine's record before replying. */
  readonly decision?: ReservationDecision;
  /** A replay: the original's reservation id, whose record must be stored before replying. */
  readonly replayOf?: string;
  readonly error?: unknown;
}

/**
 * Fresh decisions by engine, engines in the order of their last decision: the last record published
 * holds the batch's last decision, whose GLOBAL usage is the one readers of the records keep.
 */
function byEngine(decided: readonly Decided[]): Map<string, Decided[]> {
  const groups = new Map<string, Decided[]>();
  for (const d of decided) {
    const engineId = (d.decision as ReservationDecision).reply.engineId;
    const group = groups.get(engineId) ?? [];
    group.push(d);
    groups.delete(engineId);
    groups.set(engineId, group);
  }
  return groups;
}

type DecisionRecord = Envelope<{ limits: Record<string, RiskLimits>; decisions: ReservationDecision[] }>;

const LEASE_KEY = 'risk-guard.leader';
const MAX_ATTEMPTS = 3;
const FORWARD_TIMEOUT_MS = 5_000;
/** Decisions whose record is kept for a retry after its publish failed (in memory, oldest dropped first). */
const MAX_UNRECORDED = 10_000;
/** ~2.5 kB a decision: a record stays far below NATS's default max_payload (1 MiB) at any batch size. */
const MAX_DECISIONS_PER_RECORD = 64;

/** An error reply from the leader, passed on with its code intact. */
class ForwardedError extends BifrostError {
  constructor(message: string, options: BifrostErrorOptions & { code: string }) {
    super(message, options.code, options);
  }
}

/**
 * The risk desk: the single place where reservations are decided. Only the instance holding the
 * lease decides; it takes commands off an in-process queue one at a time, decides a run of them
 * against its in-memory ledger, appends their entries as one message with
 * Nats-Expected-Last-Subject-Sequence, then records the run's reserve decisions (one record per
 * engine, ADR 0014) and only then replies.
 * Other instances forward to the leader's subjects. A conflicting append means another writer:
 * reload from the stream and decide again.
 */
@Injectable()
export class RiskDesk implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('RiskDesk');
  private readonly store: RiskBookStore;
  private book: RiskBook = { policies: {}, ledger: { state: { status: 'unopened' }, lastSequence: 0 } };
  private policies: Record<string, RiskPolicy> = {};
  private queue: Job[] = [];
  private draining?: Promise<void>;
  private lease?: LeaderLease;
  private leader = false;
  private leaderRoutes?: RpcServer;
  private policyWatch?: Subscription;
  private policyReloadQueued = false;
  /** Counts terms as leader: a step-down of an earlier term leaves a later term's queue alone. */
  private term = 0;
  /** The lease's term (`LeaderLease.term`) this instance took over in: it leads only in that one. */
  private leaseTerm = 0;
  private renewal?: Promise<boolean>;
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private expiryQueued = false;
  private readonly loaded: Promise<void>;
  private markLoaded!: () => void;
  private snapshotDue = false;
  private renewing = false;
  private takingOver = false;
  /** By reservation id: the record of a decision whose publish failed, and a record being stored. */
  private readonly unrecorded = new Map<string, DecisionRecord>();
  private readonly recording = new Map<string, Promise<void>>();

  constructor(
    @Inject(Messaging) private readonly messaging: Messaging,
    @Inject(RISK_GUARD_CONFIG) private readonly config: RiskGuardConfig,
    @Inject(ServiceInfo) private readonly info: ServiceInfo,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(RiskMetrics) private readonly metrics: RiskMetrics,
    @Inject(RPC_OBSERVER) private readonly rpcObserver: RpcObserver,
  ) {
    assertTimeZone(config.RISK_TIME_ZONE);
    assertRiskGuardConfig(config);
    this.store = new RiskBookStore(messaging, `risk-guard/${info.instanceId}`);
    this.loaded = new Promise((resolve) => (this.markLoaded = resolve));
    metrics.observe(
      () => this.book.ledger.state,
      () => this.policies,
      () => this.leader,
    );
  }

  get isLeader(): boolean {
    return this.leader;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.health.register({
      name: 'risk-desk',
      check: () => this.readiness(),
    });
    await this.reload();
    this.markLoaded();
    const kv = await new Kvm(this.messaging.js).open(this.messaging.naming.snapshotBucket);
    this.lease = new LeaderLease(kv, LEASE_KEY, this.info.instanceId, this.config.RISK_LEASE_MS);
    await this.leadership();
    this.every(Math.max(50, Math.floor(this.config.RISK_LEASE_MS / 3)), () => this.leadership());
    this.every(this.config.RISK_EXPIRY_SWEEP_MS, () => this.sweep());
    this.every(this.config.RISK_SNAPSHOT_INTERVAL_MS, () => {
      this.snapshotDue = true;
      void this.kick();
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.draining;
    if (this.leader) await this.snapshot().catch(() => undefined);
    await this.stepDown('shutting down');
    // A renewal still in flight would win over the release, and the lease would outlive us.
    await this.renewal;
    await this.lease?.release();
  }

  /**
   * Decides (as leader) or forwards (as standby) one request; resolves with the reply data. The
   * public routes validated the request; the leader's route, open to any NATS client, refuses an
   * operation it does not know before it is queued (or named in a metric label).
   */
  async execute(request: RiskRequest): Promise<unknown> {
    const op: unknown = (request as { op?: unknown } | null)?.op;
    if (!REQUEST_OPS.has(op)) {
      throw new ValidationError(
        `unknown risk-guard operation ${JSON.stringify(op)?.slice(0, 64) ?? 'none'}`,
        {
          code: 'RPC.VALIDATION_FAILED',
        },
      );
    }
    await this.loaded;
    if (this.stopping) throw notLeader('risk-guard is shutting down');
    if (!this.leader) return this.forward(request);
    if (request.op === 'policies' || request.op === 'ledger') this.assertLease();
    if (request.op === 'policies') return { policies: Object.values(this.policies) };
    if (request.op === 'ledger') return this.ledgerView();
    return this.enqueue(request);
  }

  private enqueue(request: QueuedRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({
        request,
        reservationId: uuidv7(),
        receivedAt: process.hrtime.bigint(),
        attempts: 0,
        resolve,
        reject,
      });
      void this.kick();
    });
  }

  ledgerView(): LedgerView {
    return ledgerView(
      this.book.ledger.state,
      this.config.RISK_TIME_ZONE,
      installationCurrency(this.policies) ?? null,
    );
  }

  /**
   * Ready when it leads, or stands by while another instance holds the lease. With no leader to
   * forward to (the lease ran out or was released, it is taking over, or its takeover failed) it is
   * not ready: every request it takes meanwhile fails with `RISK.NO_LEADER`.
   */
  private readiness(): { ok: boolean; detail: string } {
    if (this.stopping) return { ok: false, detail: 'stopping' };
    if (this.leader) return { ok: true, detail: 'leader' };
    if (this.takingOver) return { ok: false, detail: 'taking over: reloading the ledger' };
    if (this.lease?.heldElsewhere) return { ok: true, detail: 'standby' };
    if (this.lease?.held)
      return {
        ok: false,
        detail: 'no leader: this instance holds the lease but could not take over (retrying)',
      };
    return { ok: false, detail: 'no leader: no instance holds the lease' };
  }

  // ── leadership ────────────────────────────────────────────────────────────────────────────────

  /**
   * Renews (or takes) the lease, one attempt at a time, and becomes leader when it holds it. Taking
   * over runs beside the renewals, so a reload longer than the lease does not let it run out.
   */
  private async leadership(): Promise<void> {
    if (this.stopping || !this.lease || this.renewing) return;
    this.renewing = true;
    let held: boolean;
    try {
      this.renewal = this.lease.acquire();
      held = await this.renewal;
    } finally {
      this.renewing = false;
    }
    if (!held) {
      if (this.leader) await this.stepDown('lease lost');
      return;
    }
    // Taken again, not renewed: another instance may have led meanwhile (this one stalled past its
    // lease and woke after that one left), so what this one knows is stale. Take over afresh.
    if (this.leader && this.lease.term !== this.leaseTerm) await this.stepDown('the lease was taken anew');
    if (this.leader || this.takingOver || this.stopping) return;
    this.takingOver = true;
    try {
      await this.becomeLeader();
    } catch (error) {
      // Not leading; the next round tries again.
      this.log.warn(`could not take the risk desk over: ${String(error)}`);
    } finally {
      this.takingOver = false;
    }
  }

  private async becomeLeader(): Promise<void> {
    this.leaseTerm = this.lease?.term ?? 0;
    // A policy event this leader did not append (an earlier leader's, landing late) is read before
    // the next decision, also one that lands while this instance reloads to take over: watched
    // from before that reload. Its own appends are read back too (rare, and a few events to read).
    let changedMeanwhile = false;
    const watch = this.messaging.nc.subscribe(this.store.policyFilter, {
      callback: () => {
        if (this.leader) this.reloadPoliciesSoon();
        else changedMeanwhile = true;
      },
    });
    try {
      await this.messaging.nc.flush();
      await this.takeOver();
      if (this.config.RISK_SEED_POLICIES && Object.keys(this.book.policies).length === 0) await this.seed();
    } catch (error) {
      watch.unsubscribe();
      throw error;
    }
    // The lease may have been lost (or lost and taken again) while taking over.
    if (this.stopping || !this.lease?.held || this.lease.term !== this.leaseTerm) {
      watch.unsubscribe();
      return;
    }
    this.leader = true;
    this.term += 1;
    this.policyWatch = watch;
    if (changedMeanwhile) this.reloadPoliciesSoon();
    const term = this.term;
    const routes = await serveRpc(
      this.messaging.nc,
      this.messaging.naming,
      'risk-guard-leader',
      [{ subject: 'bifrost.rpc.risk.leader.execute', handler: (data) => this.execute(data as RiskRequest) }],
      {
        onError: (error) => this.log.error(`leader route failed: ${String(error)}`),
        observer: this.rpcObserver,
      },
    );
    // Stepped down while the server registered the route: it is not ours to serve any more.
    if (!this.leader || this.term !== term) return routes.drain();
    this.leaderRoutes = routes;
    this.log.log(`instance ${this.info.instanceId} is the risk-guard leader`);
  }

  /**
   * Reloads from the stream (the previous leader may have written since we loaded) and appends
   * `LeaderChanged` to the current day's ledger with the sequence just read. From then on every
   * append an earlier leader decided against its own view, of the ledger or of the policies, fails
   * its expected sequence: it reloads or steps down instead of granting against stale policies.
   * An append of the earlier leader between our reload and the fence makes the fence conflict:
   * reload and fence again.
   */
  private async takeOver(): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      await this.reload();
      const { state, lastSequence } = this.book.ledger;
      if (state.status !== 'open') return;
      this.assertLease();
      try {
        const closed = await this.store.closedByAFence(state, lastSequence);
        let ledger: Versioned<LedgerState> = {
          state,
          lastSequence: await this.store.appendLedger(state.day, [this.fence()], lastSequence),
        };
        if (closed) ledger = await this.openToday(ledger);
        this.book = { ...this.book, ledger };
        return;
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * The day read at a takeover ended with a leader's fence after its midnight: that leader may have
   * stalled between fencing the day it closed and opening the next, so the next day's subject is
   * empty and its opening, still on its way, would not be fenced. The new leader opens today itself;
   * a conflict means that opening landed, and the takeover reloads and fences it.
   */
  private async openToday(ledger: Versioned<LedgerState>): Promise<Versioned<LedgerState>> {
    const ctx = { policies: this.policies, timeZone: this.config.RISK_TIME_ZONE };
    const expire: LedgerCommand = { type: 'ExpireReservations', data: { now: new Date().toISOString() } };
    const { events, state } = decideLedger(expire, ledger.state, ctx);
    if (events[0]?.type !== 'LedgerOpened' || state.status !== 'open') return ledger;
    return { state, lastSequence: await this.store.appendLedger(state.day, events, 0) };
  }

  /**
   * `LeaderChanged` in this instance's name: appended with the last sequence it read, it refuses
   * every append to that subject decided before.
   */
  private fence(): LedgerEntry {
    return { type: 'LeaderChanged', data: { leader: this.info.instanceId, at: new Date().toISOString() } };
  }

  /**
   * Appends and answers only under a lease still running by our clock, and the one it took over
   * in: once it has run out another instance may lead (a stalled process whose renewals did not
   * run), so step down rather than write or answer from what it knew.
   */
  private assertLease(): void {
    if (this.lease?.held && this.lease.term === this.leaseTerm) return;
    this.stepDown('the lease ran out').catch((error: unknown) =>
      this.log.error(`stepping down failed: ${String(error)}`),
    );
    throw notLeader('the leader lease ran out');
  }

  private async stepDown(reason: string): Promise<void> {
    if (!this.leader) return;
    this.leader = false;
    const term = this.term;
    this.policyWatch?.unsubscribe();
    this.policyWatch = undefined;
    // Forwarded requests in flight are answered once the loop has finished and the rest rejected.
    const routesDrained = this.leaderRoutes?.drain();
    this.leaderRoutes = undefined;
    await this.draining;
    if (this.term === term)
      for (const job of this.queue.splice(0)) job.reject(notLeader(`risk-guard stepped down: ${reason}`));
    await routesDrained;
    this.log.warn(`instance ${this.info.instanceId} stepped down: ${reason}`);
  }

  private async forward(request: RiskRequest): Promise<unknown> {
    const reply = await this.messaging.rpc.request('bifrost.rpc.risk.leader.execute', request, {
      timeoutMs: FORWARD_TIMEOUT_MS,
    });
    if (reply.ok) return reply.data;
    const code = reply.error.code === 'RPC.NO_RESPONDERS' ? 'RISK.NO_LEADER' : reply.error.code;
    const options = { code, details: reply.error.details };
    // An infrastructure failure stays one (the reply carries only the code): a consumer asking on
    // behalf of a message (a tripwire's throttle) then retries it until a leader takes it.
    if (infraFailureCode(code)) throw new TransientError(reply.error.message, options);
    throw new ForwardedError(reply.error.message, options);
  }

  private async seed(): Promise<void> {
    const now = new Date().toISOString();
    for (const command of seedPolicyCommands(now)) {
      await this.applyPolicy(command, { kind: 'system', id: 'risk-guard/seed' }).catch((error: unknown) => {
        if (!(error instanceof ConcurrencyError)) throw error;
      });
    }
    this.log.log('seeded the default risk policies');
  }

  // ── the serial decision loop ──────────────────────────────────────────────────────────────────

  private kick(): Promise<void> {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      // Jobs queued while the loop was finishing saw it still running: start it again for them.
      if (this.leader && this.queue.length > 0) void this.kick();
    });
    return this.draining;
  }

  private async drain(): Promise<void> {
    // Started by the first request of a burst: let the rest of the burst (the same socket read)
    // reach the queue first, so it becomes one batch and one append rather than one each.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.leader && this.queue.length > 0) {
      const head = this.queue[0] as Job;
      if (runsAlone(head.request)) {
        this.queue.shift();
        await this.runAlone(head);
      } else {
        const end = this.queue.findIndex((j) => runsAlone(j.request));
        const size = Math.min(end === -1 ? this.queue.length : end, this.config.RISK_MAX_BATCH);
        await this.runLedgerBatch(this.queue.splice(0, size));
      }
    }
    if (this.snapshotDue && this.leader) {
      this.snapshotDue = false;
      await this.snapshot().catch((error: unknown) => this.log.warn(`snapshot failed: ${String(error)}`));
    }
  }

  private async runAlone(job: Job): Promise<void> {
    const request = job.request;
    try {
      if (request.op === 'policy') job.resolve(await this.applyPolicy(request.command, request.actor));
      else {
        // From here on a newer policy event needs another reload.
        this.policyReloadQueued = false;
        this.book = { ...this.book, policies: await this.store.loadPolicies() };
        this.policies = policiesInForce(this.book);
        job.resolve(undefined);
      }
    } catch (error) {
      job.reject(error);
    }
  }

  private reloadPoliciesSoon(): void {
    if (this.policyReloadQueued || !this.leader) return;
    this.policyReloadQueued = true;
    this.enqueue({ op: 'reload-policies' }).catch((error: unknown) => {
      this.policyReloadQueued = false;
      this.log.warn(`could not read the policies again: ${String(error)}`);
    });
  }

  private async applyPolicy(command: PolicyCommand, actor: Actor): Promise<RiskPolicy | undefined> {
    // Before deciding, not only before appending: an unknown policy or a no-op is answered from
    // what this leader knows, and a successor may have defined the policy or lifted the throttle.
    this.assertLease();
    const { policyId } = command.data;
    const current = this.book.policies[policyId] ?? { state: policyDecider.initialState(), lastSequence: 0 };
    const currency = installationCurrency(this.policies);
    const events = policyDecider.decide(command, current.state, { currency });
    let { state, lastSequence } = current;
    try {
      for (const event of events) {
        this.assertLease();
        lastSequence = await this.store.appendPolicyEvent(event, lastSequence, actor);
        state = policyDecider.evolve(state, event);
      }
    } catch (error) {
      await this.resync(error);
      throw error;
    }
    this.book = { ...this.book, policies: { ...this.book.policies, [policyId]: { state, lastSequence } } };
    this.policies = policiesInForce(this.book);
    return state.status === 'defined' ? state.policy : undefined;
  }

  private async runLedgerBatch(jobs: Job[]): Promise<void> {
    const ctx = { policies: this.policies, timeZone: this.config.RISK_TIME_ZONE };
    let ledger: Versioned<LedgerState> = this.book.ledger;
    let state = ledger.state;
    let entries: LedgerEntry[] = [];
    let decided: Decided[] = [];
    let next = 0;
    const commit = async () => {
      // Replies too, not only appends: one with nothing to append (a reservation it does not know, a
      // replay, a no-op) comes from what this leader knew, which a successor may have changed since.
      this.assertLease();
      if (entries.length > 0 && state.status === 'open') {
        let expected = ledger.lastSequence;
        if (ledger.state.status !== 'open') expected = 0;
        else if (ledger.state.day !== state.day) {
          // A new day's subject is empty, so its opening can only expect that: the day it closes is
          // fenced first. An opening decided by a leader a successor has fenced off is refused there.
          await this.store.appendLedger(ledger.state.day, [this.fence()], ledger.lastSequence);
          expected = 0;
        }
        const sequence = await this.store.appendLedger(state.day, entries, expected);
        ledger = { state, lastSequence: sequence };
        this.book = { ...this.book, ledger };
      }
      this.settleReplies(decided, ctx.policies);
      entries = [];
      decided = [];
    };
    try {
      for (; next < jobs.length; next += 1) {
        const job = jobs[next] as Job;
        let result: { events: LedgerEntry[]; state: LedgerState };
        try {
          result = this.decide(job, state, ctx);
        } catch (error) {
          decided.push({ job, error });
          continue;
        }
        const { events } = result;
        // A new day starts a new aggregate: what belongs to the old day is appended first.
        if (events[0]?.type === 'LedgerOpened' && state.status === 'open') await commit();
        state = result.state;
        entries.push(...events);
        decided.push(this.outcome(job, state, ctx.policies));
      }
      await commit();
    } catch (error) {
      const givenUp = await this.recover(error, [...decided.map((d) => d.job), ...jobs.slice(next)]);
      // The append may have landed (its ack lost): a retry with the same key then replays a grant
      // no record holds. The decisions given up are kept as unrecorded, stored before such a replay
      // is answered (and only then: a replay finds the ledger holding the same reservation).
      for (const [engineId, group] of byEngine(decided.filter((d) => d.decision && givenUp.has(d.job)))) {
        for (const { record } of this.decisionRecords(engineId, group, ctx.policies)) {
          this.keepUnrecorded(
            record.data.decisions.map((d) => d.reply.reservationId),
            record,
          );
        }
      }
    }
  }

  /**
   * Decides one command of the batch. A retried reserve whose first decision landed (its ack lost)
   * just before midnight and is decided again after it finds its key forgotten with the old day, so
   * it is decided afresh on the new day: then under an id of its own, as the engine's own retry
   * would be. One id is one decision: the ledger, and the projector's row by reservation id, must
   * not hold an id denied on one day and granted on the next.
   */
  private decide(
    job: Job,
    state: LedgerState,
    ctx: LedgerContext,
  ): { events: LedgerEntry[]; state: LedgerState } {
    const result = decideLedger(this.toCommand(job), state, ctx);
    if (
      job.attempts === 0 ||
      findReservation(state, job.reservationId) === undefined ||
      !result.events.some((e) => e.type === 'ReservationGranted' || e.type === 'ReservationDenied')
    )
      return result;
    job.reservationId = uuidv7();
    return decideLedger(this.toCommand(job), state, ctx);
  }

  /**
   * After a failed append only the stream knows what landed (an ack lost on the way, another writer):
   * reload everything from it, policies included. A leader that cannot read it steps down, and its
   * lease timer makes it leader again once it can. Runs inside the decision loop, so stepping down
   * does not wait for the loop to end.
   */
  private async resync(error: unknown): Promise<void> {
    this.log.warn(`append failed (${String(error)}); reloading from the stream`);
    try {
      await this.reload();
    } catch (reloadError) {
      this.stepDown(`cannot reload from the stream: ${String(reloadError)}`).catch((stepDownError: unknown) =>
        this.log.error(`stepping down failed: ${String(stepDownError)}`),
      );
    }
  }

  /** After a failed ledger append: resync, then decide the jobs again or fail them (returned). */
  private async recover(error: unknown, jobs: Job[]): Promise<ReadonlySet<Job>> {
    await this.resync(error);
    const retry: Job[] = [];
    const givenUp = new Set<Job>();
    for (const job of jobs) {
      job.attempts += 1;
      if (job.attempts < MAX_ATTEMPTS && this.leader) retry.push(job);
      else {
        givenUp.add(job);
        job.reject(
          error instanceof BifrostError
            ? error
            : new TransientError('could not record the decision', { cause: error }),
        );
      }
    }
    // Retried jobs are decided again ahead of newer ones; a reserve that did land is found by its key.
    this.queue.unshift(...retry);
    return givenUp;
  }

  private toCommand(job: Job): LedgerCommand {
    const now = new Date().toISOString();
    const request = job.request;
    switch (request.op) {
      case 'reserve': {
        const r = request.request;
        const ttlMs = r.ttlMs ?? this.config.RISK_DEFAULT_TTL_MS;
        if (ttlMs > this.config.RISK_MAX_TTL_MS) {
          throw new ValidationError(`ttlMs ${ttlMs} exceeds the maximum of ${this.config.RISK_MAX_TTL_MS}`, {
            code: 'RISK.TTL_TOO_LONG',
          });
        }
        return {
          type: 'ReserveCapacity',
          data: {
            reservationId: job.reservationId,
            engineId: r.engineId,
            idempotencyKey: r.idempotencyKey,
            maxLoss: r.maxLoss,
            exposure: r.exposure,
            ttlMs,
            now,
            actor: engine(r.engineId),
          },
        };
      }
      case 'settle': {
        const r = request.request;
        return {
          type: 'SettleReservation',
          data: {
            reservationId: r.reservationId,
            engineId: r.engineId,
            outcome: r.outcome ?? 'completed',
            ...(r.realizedLoss ? { realizedLoss: r.realizedLoss } : {}),
            now,
            actor: engine(r.engineId),
          },
        };
      }
      case 'release':
        return {
          type: 'ReleaseReservation',
          data: Object.assign({}, request.request, { now, actor: engine(request.request.engineId) }),
        };
      case 'reconcile': {
        const { actor, note, ...r } = request.request;
        return {
          type: 'ReconcileReservation',
          data: { ...r, ...(note ? { note } : {}), now, actor: actor ?? engine(r.engineId) },
        };
      }
      case 'expire':
        return { type: 'ExpireReservations', data: { now } };
      case 'policies':
      case 'ledger':
      case 'policy':
      case 'reload-policies':
        throw new InternalError(`${request.op} is not a ledger command`);
      default: {
        const unknown: never = request;
        throw new InternalError(`unknown request ${JSON.stringify(unknown)}`);
      }
    }
  }

  private outcome(job: Job, state: LedgerState, policies: Readonly<Record<string, RiskPolicy>>): Decided {
    const request = job.request;
    if (request.op === 'reserve') {
      const { engineId, idempotencyKey } = request.request;
      const found = reserveResult(state, engineId, idempotencyKey, false);
      if (!found) return { job, error: new InternalError('reservation not recorded') };
      if (found.reservationId !== job.reservationId) {
        // A replay: its reply waits for the original's record (see settleReplies).
        return { job, reply: { ...found, replayed: true }, replayOf: found.reservationId };
      }
      const usage = state.status === 'open' ? state.usage : {};
      // Object.assign, not `{ ...found, checks }`: on Node 20 that costs ~1 µs (docs/performance.md).
      const reply: ReserveReply = Object.assign({}, found, {
        checks: reservationChecks(policies, usage, found),
      });
      return { job, reply, decision: { request: request.request, reply, usage: pick(usage, engineId) } };
    }
    if (request.op === 'settle' || request.op === 'release' || request.op === 'reconcile') {
      const record = findReservation(state, request.request.reservationId);
      return { job, reply: record ? (reservationResult(record) satisfies ReservationReply) : undefined };
    }
    return { job };
  }

  /**
   * Records reserve decisions, then replies; the loop does not wait for the records. The fresh
   * decisions of one engine go into one record (`risk.ReservationsDecided`), stored before any of
   * them is answered. A record that could not be stored is kept (its replies were errors) and stored
   * when the engine retries one of its decisions with the same idempotency key, before the replayed
   * reply; a replay of a decision whose record is still being stored waits for it. Which of the two
   * applies is looked up here, after the batch's append: the original's store may have failed
   * meanwhile. No reply goes out without its record, except a replay on another leader (or after a
   * restart) of a record that was never stored: the unstored record was only in the memory of the
   * instance that decided it.
   */
  private settleReplies(decided: Decided[], policies: Readonly<Record<string, RiskPolicy>>): void {
    for (const d of decided) {
      if (d.error === undefined) continue;
      d.job.reject(d.error);
      this.metrics.failed(d.job.request.op);
    }
    // Stored first, so a replay of a decision of this batch finds its record being stored.
    for (const [engineId, group] of byEngine(decided.filter((d) => d.error === undefined && d.decision))) {
      for (const { record, part } of this.decisionRecords(engineId, group, policies)) {
        const stored = this.storeRecord(record);
        for (const { job, reply } of part) this.replyOnceStored(job, reply, stored, true);
      }
    }
    for (const { job, reply, decision, replayOf, error } of decided) {
      if (error !== undefined || decision) continue;
      const kept = replayOf === undefined ? undefined : this.unrecorded.get(replayOf);
      const stored = kept ? this.storeRecord(kept) : replayOf ? this.recording.get(replayOf) : undefined;
      if (stored) this.replyOnceStored(job, reply, stored, false);
      else job.resolve(reply);
    }
  }

  /** An engine's fresh decisions as records (`risk.ReservationsDecided`) of at most 64 decisions each. */
  private decisionRecords(
    engineId: string,
    group: readonly Decided[],
    policies: Readonly<Record<string, RiskPolicy>>,
  ): { record: DecisionRecord; part: readonly Decided[] }[] {
    const records: { record: DecisionRecord; part: readonly Decided[] }[] = [];
    for (let start = 0; start < group.length; start += MAX_DECISIONS_PER_RECORD) {
      const part = group.slice(start, start + MAX_DECISIONS_PER_RECORD);
      const record = createEnvelope({
        type: 'risk.ReservationsDecided',
        subject: this.messaging.naming.decisionSubject('risk', engineId),
        source: 'risk-guard',
        actor: engine(engineId),
        data: {
          limits: limitsOf(policies, engineId),
          decisions: part.map((d) => d.decision as ReservationDecision),
        },
      });
      records.push({ record, part });
    }
    return records;
  }

  private replyOnceStored(job: Job, reply: unknown, stored: Promise<void>, fresh: boolean): void {
    stored.then(
      () => {
        if (fresh) this.metrics.decided(reply as ReserveReply, job.receivedAt);
        job.resolve(reply);
      },
      (publishError: unknown) => {
        this.metrics.failed('reserve');
        job.reject(
          new TransientError(
            'the decision was made but could not be recorded; retry with the same idempotency key',
            { cause: publishError },
          ),
        );
      },
    );
  }

  /** Publishes a decision record, once at a time; one that fails is kept for a retry of any of its decisions. */
  private storeRecord(record: DecisionRecord): Promise<void> {
    const ids = record.data.decisions.map((d) => d.reply.reservationId);
    const inFlight = this.recording.get(ids[0] as string);
    if (inFlight) return inFlight;
    const storing = this.messaging.publisher.publish(record).then(
      () => {
        for (const id of ids) this.unrecorded.delete(id);
      },
      (error: unknown) => {
        this.keepUnrecorded(ids, record);
        throw error;
      },
    );
    for (const id of ids) this.recording.set(id, storing);
    const done = () => {
      for (const id of ids) if (this.recording.get(id) === storing) this.recording.delete(id);
    };
    storing.then(done, done);
    return storing;
  }

  private keepUnrecorded(ids: readonly string[], record: DecisionRecord): void {
    for (const id of ids) {
      this.unrecorded.delete(id);
      this.unrecorded.set(id, record);
    }
    // Oldest first, whole records: an engine that never retries does not hold memory for ever, and
    // a record is either kept for all of its decisions or for none.
    for (const oldest of this.unrecorded.values()) {
      if (this.unrecorded.size <= MAX_UNRECORDED) break;
      for (const d of oldest.data.decisions) this.unrecorded.delete(d.reply.reservationId);
    }
  }

  // ── timers ────────────────────────────────────────────────────────────────────────────────────

  private sweep(): void {
    if (!this.leader || this.expiryQueued || this.book.ledger.state.status !== 'open') return;
    this.expiryQueued = true;
    void this.enqueue({ op: 'expire' })
      .catch(() => undefined)
      .finally(() => (this.expiryQueued = false));
  }

  private async snapshot(): Promise<void> {
    const saved = await this.store.saveSnapshot(this.book.ledger, new Date().toISOString());
    if (saved?.stored === false) {
      this.log.warn(
        `ledger snapshot not saved: ${saved.bytes} bytes compressed, above the KV value limit; a restart replays the day`,
      );
    }
  }

  private async reload(): Promise<void> {
    this.book = await this.store.load();
    this.policies = policiesInForce(this.book);
  }

  private every(ms: number, task: () => unknown): void {
    const timer = setInterval(() => {
      void Promise.resolve()
        .then(task)
        .catch((error: unknown) => this.log.error(`timer task failed: ${String(error)}`));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }
}

/** GLOBAL's and the engine policy's entries of a map by policy id (those that exist). */
function pick<V>(from: Readonly<Record<string, V>>, engineId: string): Record<string, V> {
  const picked: Record<string, V> = {};
  for (const id of [GLOBAL_POLICY_ID, engineId]) if (from[id] !== undefined) picked[id] = from[id];
  return picked;
}

/** The limits of GLOBAL and the engine policy, as a decision record carries them. */
function limitsOf(
  policies: Readonly<Record<string, RiskPolicy>>,
  engineId: string,
): Record<string, RiskLimits> {
  const limits: Record<string, RiskLimits> = {};
  for (const [id, p] of Object.entries(pick(policies, engineId)))
    limits[id] = {
      maxDailyLoss: p.maxDailyLoss,
      maxDailyExposure: p.maxDailyExposure,
      maxDailyActions: p.maxDailyActions,
    };
  return limits;
}

function engine(engineId: string): Actor {
  return { kind: 'engine', id: engineId };
}

function notLeader(message: string): TransientError {
  return new TransientError(message, { code: 'RISK.NOT_LEADER' });
}
