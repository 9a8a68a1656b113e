import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type {
  Actor,
  TripwireEvaluation,
  TripwirePolicyView,
  UpsertTripwirePolicyCommand,
} from '@bifrost/contracts';
import {
  seedTripwireCommands,
  tripwireDecider,
  tripwirePolicyId,
  tripwirePolicyView,
  type IngestPosition,
  type TripwireCommand,
  type TripwireEvent,
  type TripwireState as PolicyState,
} from '@bifrost/domain-tripwire';
import { NotFoundError, requireOperatorActor, type Decider } from '@bifrost/event-sourcing';
import { CommandRunner, KeyedMutex, Messaging, type Causation, type DomainEvent } from '@bifrost/messaging';
import { HealthRegistry } from '@bifrost/observability';
import { TripwireMetrics } from '../metrics/tripwire.metrics';
import { TripwireState } from '../state/tripwire-state';
import { TRIPWIRE_CONFIG, type TripwireConfig } from '../tripwire.config';

/**
 * The tripwire itself is the actor of the triggers a KPI causes (the KPI's engine is only their
 * cause); an operator's evaluate is the operator's, its triggers included (DESIGN §7).
 */
export const TRIPWIRE_ACTOR: Actor = { kind: 'system', id: 'tripwire' };
const SEED_ACTOR: Actor = { kind: 'system', id: 'tripwire/seed' };

/** Seeding defines a policy only while nobody has: an operator's settings are never overwritten. */
const seedDecider: Decider<PolicyState, TripwireCommand, TripwireEvent, unknown> = {
  ...tripwireDecider,
  decide: (command, state, ctx) =>
    state.status === 'absent' ? tripwireDecider.decide(command, state, ctx) : [],
};

/**
 * Runs commands on the policy aggregates: decide on the in-memory state, append with optimistic
 * concurrency (reload and decide again on conflict). Commands on one policy run one after another in
 * this process, so KPIs and operator commands never race each other for the same append.
 */
@Injectable()
export class TripwireCommands implements OnModuleInit {
  private readonly log = new Logger('TripwireCommands');
  private readonly runner: CommandRunner;
  private readonly kpiRunner: CommandRunner;
  private readyPromise?: Promise<void>;
  private isReady = false;
  /** When the ingest stream was created, as last read (see {@link ingestPosition}). */
  private ingestStreamCreated?: string;

  constructor(
    @Inject(Messaging) private readonly messaging: Messaging,
    @Inject(TripwireState) private readonly state: TripwireState,
    @Inject(TripwireMetrics) private readonly metrics: TripwireMetrics,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(TRIPWIRE_CONFIG) private readonly config: TripwireConfig,
    @Inject(KeyedMutex) locks: KeyedMutex,
  ) {
    // One lock set: KPIs and operator commands on a policy still run one after another.
    const options = { context: 'tripwire', source: 'tripwire', locks } as const;
    this.runner = new CommandRunner(messaging, options);
    this.kpiRunner = new CommandRunner(messaging, {
      ...options,
      actorFor: (event, actor) => (event.type === 'TripwireTriggered' ? TRIPWIRE_ACTOR : actor),
    });
  }

  onModuleInit(): Promise<void> {
    return this.ready();
  }

  /** State rebuilt and seed policies defined; every handler waits for it. */
  ready(): Promise<void> {
    this.readyPromise ??= (async () => {
      this.health.register({
        name: 'tripwire-state',
        check: () => (this.isReady ? { ok: true } : { ok: false, detail: 'rebuilding state' }),
      });
      await this.state.start();
      if (this.config.TRIPWIRE_SEED_POLICIES) await this.seed();
      this.isReady = true;
    })();
    return this.readyPromise;
  }

  // ── KPIs ────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Records one KPI in its policy's windows and evaluates them; false when no policy watches it.
   * `ingestSequence`: the KPI's sequence in the ingest stream (it tells a replayed KPI).
   */
  async recordKpi(
    kpi: { engineId: string; domain: string; metric: string; success: boolean; value?: number },
    kpiId: string,
    ingestSequence: number,
    actor: Actor,
    causation: Causation,
  ): Promise<'recorded' | 'duplicate' | 'no_policy'> {
    await this.ready();
    const policyId = tripwirePolicyId(kpi.domain, kpi.metric);
    const state = this.state.policy(policyId);
    if (state.status === 'absent') return 'no_policy';
    const ingest = await this.ingestPosition(ingestSequence, state.engines[kpi.engineId]?.lastIngest ?? null);
    const events = await this.run(
      policyId,
      {
        type: 'RecordKpi',
        data: {
          policyId,
          engineId: kpi.engineId,
          success: kpi.success,
          ...(kpi.value === undefined ? {} : { value: kpi.value }),
          kpiId,
          ingest,
          now: new Date().toISOString(),
        },
      },
      actor,
      causation,
    );
    // A redelivery that only completes its trip (an append cut after the KPI) is still a duplicate.
    return events.some((e) => e.type === 'KpiRecorded') ? 'recorded' : 'duplicate';
  }

  // ── operator commands ─────────────────────────────────────────────────────────────────────────

  async upsertPolicy(command: UpsertTripwirePolicyCommand): Promise<TripwirePolicyView> {
    requireOperator(command.actor);
    await this.ready();
    const { actor, reason, enabled, confidence, killScope, ...settings } = command;
    const policyId = tripwirePolicyId(command.domain, command.metric);
    const policy = {
      domain: settings.domain,
      metric: settings.metric,
      recentWindow: settings.recentWindow,
      baselineWindow: settings.baselineWindow,
      maxDropPct: settings.maxDropPct,
      minEvents: settings.minEvents,
      action: settings.action,
      ...(enabled === undefined ? {} : { enabled }),
      ...(confidence === undefined ? {} : { confidence }),
      ...(killScope === undefined ? {} : { killScope }),
    };
    await this.run(
      policyId,
      { type: 'DefinePolicy', data: { policyId, actor, reason, policy, now: now() } },
      actor,
    );
    return this.view(policyId);
  }

  async togglePolicy(
    enable: boolean,
    command: { actor: Actor; reason: string; policyId: string },
  ): Promise<TripwirePolicyView> {
    requireOperator(command.actor);
    await this.ready();
    const { actor, reason, policyId } = command;
    await this.run(
      policyId,
      { type: enable ? 'EnablePolicy' : 'DisablePolicy', data: { policyId, actor, reason, now: now() } },
      actor,
    );
    return this.view(policyId);
  }

  async reset(command: {
    actor: Actor;
    reason: string;
    policyId: string;
    engineId: string;
  }): Promise<TripwirePolicyView> {
    requireOperator(command.actor);
    await this.ready();
    const { actor, reason, policyId, engineId } = command;
    await this.run(
      policyId,
      { type: 'ResetTripwire', data: { policyId, engineId, actor, reason, now: now() } },
      actor,
    );
    return this.view(policyId);
  }

  /**
   * Evaluates one policy (or all) now: trips what should trip, in the operator's name, and returns
   * every engine's evaluation.
   */
  async evaluate(actor: Actor, policyId?: string): Promise<{ evaluations: TripwireEvaluation[] }> {
    requireOperator(actor);
    await this.ready();
    const ids = policyId === undefined ? this.state.policyIds() : [policyId];
    const evaluations: TripwireEvaluation[] = [];
    for (const id of ids) {
      await this.run(id, { type: 'EvaluatePolicy', data: { policyId: id, now: now() } }, actor);
      evaluations.push(...this.view(id).engines.map((e) => e.evaluation));
    }
    return { evaluations };
  }

  async policies(): Promise<{ policies: TripwirePolicyView[] }> {
    await this.ready();
    return { policies: this.state.policyIds().map((id) => this.view(id)) };
  }

  view(policyId: string): TripwirePolicyView {
    const state = this.state.policy(policyId);
    if (state.status === 'absent') {
      throw new NotFoundError(`no tripwire policy ${policyId}`, {
        code: 'TRIPWIRE.POLICY_UNKNOWN',
        details: { policyId },
      });
    }
    return tripwirePolicyView(state.policy, state.engines);
  }

  // ── plumbing ────────────────────────────────────────────────────────────────────────────────────

  /**
   * The KPI's ingest position. The stream's creation time is read once and again only when the
   * decision hangs on it: when the engine's last KPI was recorded from another stream than the one
   * known here, or this KPI is at or below it (a replay, or a recreated stream numbering from 1).
   * So a KPI of a recreated stream is never taken for a replay on a stale creation time, and the
   * steady flow costs no read.
   */
  private async ingestPosition(sequence: number, last: IngestPosition | null): Promise<IngestPosition> {
    if (
      this.ingestStreamCreated === undefined ||
      (last !== null && (last.streamCreated !== this.ingestStreamCreated || sequence <= last.sequence))
    ) {
      const { name } = this.messaging.naming.streams.ingest;
      this.ingestStreamCreated = (await this.messaging.jsm.streams.info(name)).created;
    }
    return { sequence, streamCreated: this.ingestStreamCreated };
  }

  private async seed(): Promise<void> {
    const seeded: string[] = [];
    for (const command of seedTripwireCommands(now())) {
      const events = await this.run(command.data.policyId, command, SEED_ACTOR, {}, seedDecider);
      if (events.length > 0) seeded.push(command.data.policyId);
    }
    if (seeded.length > 0) this.log.log(`seeded tripwire policies ${seeded.join(', ')}`);
  }

  private async run(
    policyId: string,
    command: TripwireCommand,
    actor: Actor,
    causation: Causation = {},
    decider: Decider<PolicyState, TripwireCommand, TripwireEvent, unknown> = tripwireDecider,
  ): Promise<DomainEvent[]> {
    const runner = command.type === 'RecordKpi' ? this.kpiRunner : this.runner;
    const result = await runner.run({
      key: policyId,
      decider,
      aggregates: this.state.policies,
      subject: this.state.subjectOf(policyId),
      command,
      ctx: undefined,
      actor,
      causation,
    });
    for (const event of result.events) {
      if (event.type === 'TripwireTriggered') this.metrics.triggered(policyId, event.data.action);
    }
    return result.events;
  }
}

function now(): string {
  return new Date().toISOString();
}

/** Operator commands come from operators: an engine cannot reset the tripwire that stopped it. */
function requireOperator(actor: Actor): void {
  requireOperatorActor(actor, 'tripwire policy commands are for operators', 'TRIPWIRE.OPERATOR_ONLY');
}
