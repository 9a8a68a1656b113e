import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type {
  Actor,
  HeimdallCommandReply,
  HeimdallDomainView,
  HeimdallProdUseCommand,
  UpsertHeimdallPolicyCommand,
} from '@bifrost/contracts';
import {
  domainView,
  heimdallDecider,
  seedHeimdallCommands,
  type HeimdallCommand,
  type HeimdallEvent,
} from '@bifrost/domain-heimdall';
import { isInfraFailure, requireOperatorActor } from '@bifrost/event-sourcing';
import { CommandRunner, KeyedMutex, Messaging, type Causation } from '@bifrost/messaging';
import { HealthRegistry } from '@bifrost/observability';
import { HEIMDALL_CONFIG, type HeimdallConfig } from '../heimdall.config';
import { HeimdallState } from '../state/heimdall-state';

const SEED_ACTOR: Actor = { kind: 'system', id: 'heimdall/seed' };
const SEED_RETRY_MS = 1_000;
const SEED_RETRY_MAX_MS = 30_000;

export interface SandboxTrial {
  readonly engineId: string;
  readonly domain: string;
  readonly trialId: string;
  readonly success: boolean;
  readonly recommendationId?: string;
  readonly confidence?: number;
  readonly detail?: string;
  readonly occurredAt: string;
}

/**
 * Runs commands on the domain aggregates: decide on the in-memory state, append with optimistic
 * concurrency (reload and decide again on conflict). Commands on one domain run one after another in
 * this process, so trials and operator commands never race each other for the same append.
 */
@Injectable()
export class HeimdallCommands implements OnModuleInit, BeforeApplicationShutdown {
  private readonly log = new Logger('HeimdallCommands');
  private readonly runner: CommandRunner;
  private readyPromise?: Promise<void>;
  private isReady = false;
  private stopping = false;
  private seedRetry?: NodeJS.Timeout;

  constructor(
    @Inject(Messaging) messaging: Messaging,
    @Inject(HeimdallState) private readonly state: HeimdallState,
    @Inject(KeyedMutex) locks: KeyedMutex,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(HEIMDALL_CONFIG) private readonly config: HeimdallConfig,
  ) {
    this.runner = new CommandRunner(messaging, { context: 'heimdall', source: 'heimdall', locks });
  }

  onModuleInit(): Promise<void> {
    return this.ready();
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
    clearTimeout(this.seedRetry);
  }

  /**
   * State rebuilt and seed policies defined (those JetStream refused are retried in the background);
   * every handler waits for it.
   */
  ready(): Promise<void> {
    this.readyPromise ??= (async () => {
      this.health.register({
        name: 'heimdall-state',
        check: () => {
          const reason = this.isReady ? this.state.staleReason() : 'rebuilding state';
          return reason ? { ok: false, detail: reason } : { ok: true };
        },
      });
      await this.state.start();
      if (this.config.HEIMDALL_SEED_POLICIES) await this.seed(0);
      this.isReady = true;
    })();
    return this.readyPromise;
  }

  /** Records one sandbox trial in its domain's scorecard; `duplicate` when the trial id was seen. */
  async recordTrial(
    trial: SandboxTrial,
    actor: Actor,
    causation: Causation,
  ): Promise<'recorded' | 'duplicate'> {
    await this.ready();
    const events = await this.run(
      trial.domain,
      {
        type: 'RecordTrial',
        data: {
          domain: trial.domain,
          engineId: trial.engineId,
          trialId: trial.trialId,
          success: trial.success,
          ...(trial.recommendationId === undefined ? {} : { recommendationId: trial.recommendationId }),
          ...(trial.confidence === undefined ? {} : { confidence: trial.confidence }),
          ...(trial.detail === undefined ? {} : { detail: trial.detail }),
          occurredAt: trial.occurredAt,
          now: new Date().toISOString(),
        },
      },
      actor,
      causation,
    );
    return events.length === 0 ? 'duplicate' : 'recorded';
  }

  upsertPolicy(command: UpsertHeimdallPolicyCommand): Promise<HeimdallCommandReply> {
    const { actor, reason, domain, minConfidence, minSandboxTrials, minSandboxSuccessRate } = command;
    return this.operator(actor, domain, {
      type: 'DefinePolicy',
      data: {
        ...operatorData(actor, reason, domain),
        thresholds: { minConfidence, minSandboxTrials, minSandboxSuccessRate },
      },
    });
  }

  enableProdUse(command: HeimdallProdUseCommand): Promise<HeimdallCommandReply> {
    const { actor, reason, domain } = command;
    return this.operator(actor, domain, { type: 'EnableProdUse', data: operatorData(actor, reason, domain) });
  }

  disableProdUse(command: HeimdallProdUseCommand): Promise<HeimdallCommandReply> {
    const { actor, reason, domain } = command;
    return this.operator(actor, domain, {
      type: 'DisableProdUse',
      data: operatorData(actor, reason, domain),
    });
  }

  /** Every domain as this replica knows it: refused, like evaluations, while that may be stale. */
  async views(): Promise<HeimdallDomainView[]> {
    await this.ready();
    this.state.assertCurrent();
    return this.state.domainIds().map((id) => domainView(this.state.domain(id), id));
  }

  private async operator(
    actor: Actor,
    domain: string,
    command: HeimdallCommand,
  ): Promise<HeimdallCommandReply> {
    await this.ready();
    const events = await this.run(domain, command, actor, {});
    return { events, domain: domainView(this.state.domain(domain), domain) };
  }

  /**
   * Defines the seed policies that are absent. One JetStream did not store is seeded again in the
   * background, 1 s, 2 s, … at most 30 s apart, until it is or the service stops: meanwhile its domain
   * has no policy, so every evaluation of it is NOT_ELIGIBLE and it cannot be promoted.
   */
  private async seed(attempt: number): Promise<void> {
    // An operator's thresholds are never put back to the seed's: the seed defines only what is absent
    // when decided, under the domain's lock (an operator's policy stored meanwhile stays), so seeding
    // every domain again is harmless.
    let refused = false;
    for (const command of seedHeimdallCommands(new Date().toISOString())) {
      if (this.stopping) return;
      await this.run(command.data.domain, command, SEED_ACTOR, {}).catch((error: unknown) => {
        refused ||= isInfraFailure(error);
        this.log.warn(`seeding ${command.data.domain} failed: ${(error as Error).message}`);
      });
    }
    if (!refused || this.stopping) return;
    this.seedRetry = setTimeout(
      () => void this.seed(attempt + 1),
      Math.min(SEED_RETRY_MS * 2 ** attempt, SEED_RETRY_MAX_MS),
    );
    this.seedRetry.unref();
  }

  /** Decide and append under the domain's local lock. */
  private async run(
    domain: string,
    command: HeimdallCommand,
    actor: Actor,
    causation: Causation,
  ): Promise<HeimdallEvent[]> {
    const result = await this.runner.run({
      key: domain,
      decider: heimdallDecider,
      aggregates: this.state.domains,
      subject: this.state.subjectOf(domain),
      command,
      ctx: undefined,
      actor,
      causation,
    });
    return result.events;
  }
}

function operatorData(actor: Actor, reason: string, domain: string) {
  requireOperatorActor(actor, 'Heimdall policy commands are for operators', 'HEIMDALL.OPERATOR_ONLY');
  // The service stamps the time; the operator is the actor the gateway authenticated.
  return { domain, actor, reason, now: new Date().toISOString() };
}
