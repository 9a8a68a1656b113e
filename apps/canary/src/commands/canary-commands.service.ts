import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Actor } from '@bifrost/contracts';
import {
  defaultProbes,
  engineHeartbeatDecider,
  probeDecider,
  type EngineHeartbeatCommand,
  type EngineHeartbeatContext,
  type ProbeCommand,
} from '@bifrost/domain-canary';
import { isInfraFailure } from '@bifrost/event-sourcing';
import { CommandRunner, KeyedMutex, Messaging, type DomainEvent } from '@bifrost/messaging';
import { HealthRegistry } from '@bifrost/observability';
import { CANARY_CONFIG, serviceUrls, type CanaryConfig } from '../canary.config';
import { CanaryState } from '../state/canary-state';

/** The canary itself is the actor of what its probes and its dead-man switch ask for. */
export const CANARY_ACTOR: Actor = { kind: 'system', id: 'canary' };
const SEED_ACTOR: Actor = { kind: 'system', id: 'canary/defaults' };
/** A pause request JetStream did not store is asked again after this, doubling up to the maximum. */
const PAUSE_RETRY_MS = 200;
const PAUSE_RETRY_MAX_MS = 2_000;

/**
 * Runs commands on the canary's aggregates: decide on the in-memory state, append with optimistic
 * concurrency. Commands on one aggregate run one after another in this process, so a check result
 * and an operator command never race each other for the same append.
 */
@Injectable()
export class CanaryCommands implements BeforeApplicationShutdown {
  private readonly log = new Logger('CanaryCommands');
  private readonly runner: CommandRunner;
  private readonly locks = new KeyedMutex();
  private readyPromise?: Promise<void>;
  private isReady = false;
  private stopping = false;

  constructor(
    @Inject(Messaging) private readonly messaging: Messaging,
    @Inject(CanaryState) private readonly state: CanaryState,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(CANARY_CONFIG) private readonly config: CanaryConfig,
  ) {
    this.runner = new CommandRunner(messaging, { context: 'canary', source: 'canary', locks: this.locks });
  }

  /** State rebuilt and the default probes defined; every handler waits for it. */
  ready(): Promise<void> {
    this.readyPromise ??= (async () => {
      this.health.register({
        name: 'canary-state',
        check: () => (this.isReady ? { ok: true } : { ok: false, detail: 'rebuilding state' }),
      });
      await this.state.start();
      if (this.config.CANARY_DEFAULT_PROBES) await this.defineDefaults();
      this.isReady = true;
      // In the background: a request JetStream does not store yet is asked again until it is.
      void this.askLostPauses().catch((error: unknown) =>
        this.log.error(`could not look for pause requests lost before this start: ${String(error)}`),
      );
    })();
    return this.readyPromise;
  }

  get engineContext(): EngineHeartbeatContext {
    return { defaultAllowedGapMs: this.config.CANARY_HEARTBEAT_GAP_MS };
  }

  /**
   * Runs a probe command; when it raised an alert of a pause_engine probe (going DOWN, or escalated
   * while DOWN), asks the engine's aggregate for the pause.
   */
  async probe(probeName: string, command: ProbeCommand, actor: Actor): Promise<DomainEvent[]> {
    const result = await this.runner.run({
      key: `probe:${probeName}`,
      decider: probeDecider,
      aggregates: this.state.probes,
      subject: this.state.probes.subjectOf(probeName),
      command,
      ctx: undefined,
      actor,
    });
    const alert = result.events.find((e) => e.type === 'AlertRaised');
    const current = this.state.probe(probeName);
    const probe = current.status === 'defined' ? current.probe : undefined;
    if (alert && probe?.action === 'pause_engine' && probe.engineId) {
      await this.requestPause(probe.engineId, {
        type: 'RequestPause',
        data: {
          engineId: probe.engineId,
          probeName: probe.name,
          // The engine's decider clips it to the event's limit.
          reason: `probe ${probe.name}: ${String(alert.data['reason'])}`,
          now: String(alert.data['at']),
        },
      });
    }
    return result.events;
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  /**
   * Appends a probe's pause request, asking again while JetStream does not store it: the alert is
   * stored already and the probe stays DOWN, so nothing would ask for this pause again.
   */
  private async requestPause(engineId: string, command: EngineHeartbeatCommand): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.engine(engineId, command, CANARY_ACTOR);
        return;
      } catch (error) {
        if (!isInfraFailure(error) || this.stopping) throw error;
        this.log.warn(`engine ${engineId}: the pause request was not stored, asking again: ${String(error)}`);
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(PAUSE_RETRY_MS * 2 ** attempt, PAUSE_RETRY_MAX_MS)),
        );
      }
    }
  }

  /**
   * A pause_engine probe DOWN with its alert open asked for its engine's pause when it went DOWN.
   * A stop or crash while JetStream did not store that request lost it, and the probe, DOWN
   * already, would not ask again: at start it is asked again, unless the engine's events hold a
   * request of this probe made since the alert.
   */
  private async askLostPauses(): Promise<void> {
    for (const { probe, health, alert } of this.state.definedProbes()) {
      const { engineId } = probe;
      if (probe.action !== 'pause_engine' || !engineId || health !== 'DOWN' || !alert || alert.resolvedAt) {
        continue;
      }
      const { events } = await this.messaging.eventStore.read(this.state.engines.subjectOf(engineId));
      const asked = events.some(
        ({ envelope }) =>
          envelope.type === 'canary.EnginePauseRequested' &&
          envelope.data['probeName'] === probe.name &&
          envelope.occurredAt >= alert.raisedAt,
      );
      if (asked) continue;
      this.log.warn(
        `engine ${engineId}: the pause probe ${probe.name} asked for is not stored; asking again`,
      );
      await this.requestPause(engineId, {
        type: 'RequestPause',
        data: {
          engineId,
          probeName: probe.name,
          reason: `probe ${probe.name}: ${alert.reason}`,
          now: new Date().toISOString(),
        },
      });
    }
  }

  /**
   * `command` may be made under the engine's lock (`prepare`), after the commands before it are
   * stored: what it reads of the engine's state and events then matches the state it is decided
   * on. A `prepare` that finds nothing to do returns null.
   */
  async engine(
    engineId: string,
    command: EngineHeartbeatCommand | { prepare: () => Promise<EngineHeartbeatCommand | null> },
    actor: Actor,
    causationId?: string,
  ): Promise<DomainEvent[]> {
    return this.locks.run(`engine:${engineId}`, async () => {
      const made = 'prepare' in command ? await command.prepare() : command;
      if (made === null) return [];
      const result = await this.runner.run({
        decider: engineHeartbeatDecider,
        aggregates: this.state.engines,
        subject: this.state.engines.subjectOf(engineId),
        command: made,
        ctx: this.engineContext,
        actor,
        causation: { causationId },
      });
      return result.events;
    });
  }

  private async defineDefaults(): Promise<void> {
    const probes = defaultProbes({
      natsSubject: 'bifrost.rpc.canary.ping',
      ...(this.config.DATABASE_URL ? { postgres: '$DATABASE_URL' } : {}),
      services: serviceUrls(this.config.CANARY_SERVICE_URLS),
    });
    const now = new Date().toISOString();
    for (const probe of probes) {
      await this.probe(
        probe.name,
        {
          type: 'DefineProbe',
          data: { probe, actor: SEED_ACTOR, reason: 'default probe (first start)', now, onlyIfNew: true },
        },
        SEED_ACTOR,
      );
    }
    this.log.log(`default probes: ${probes.map((p) => p.name).join(', ')}`);
  }
}
