import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { DataOf, EngineHeartbeatView, Envelope, HeartbeatReported } from '@bifrost/contracts';
import { stalePauseRequestId, staleIncomplete, type EngineHeartbeatEvent } from '@bifrost/domain-canary';
import { ValidationError } from '@bifrost/event-sourcing';
import { decodeEnvelope, engineFact, Messaging, toDomainEvent } from '@bifrost/messaging';
import { CANARY_CONFIG, type CanaryConfig } from '../canary.config';
import { CANARY_ACTOR, CanaryCommands } from '../commands/canary-commands.service';
import { CanaryMetrics } from '../metrics/canary.metrics';
import { CanaryState } from '../state/canary-state';

/** An engine's newest heartbeat: when (capped at now) and what it reported. */
interface LastHeartbeat {
  readonly at: string;
  readonly report: DataOf<typeof HeartbeatReported>;
}

/**
 * The heartbeat an envelope is, with the engine it speaks for; a `ValidationError` for another
 * type or an engine speaking for another. What the consumer takes, and what a restart reads back.
 */
export function heartbeatOf(envelope: Envelope): { engineId: string; signingOff: boolean } {
  const { engineId, signingOff } = engineFact<DataOf<typeof HeartbeatReported>>(
    envelope,
    'ingest.HeartbeatReported',
  );
  return { engineId, signingOff: signingOff === true };
}

/**
 * The dead-man switch: remembers when each engine was last heard from and what it reported then
 * (heartbeat facts on BIFROST_INGEST, not events: one event per heartbeat would flood the event
 * store) and sweeps the watched engines for silence. At start the last heartbeat of every watched
 * engine is read back from the ingest stream, so a restart neither forgets a silent engine nor
 * pauses a live one.
 */
@Injectable()
export class HeartbeatMonitor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('HeartbeatMonitor');
  private readonly last = new Map<string, LastHeartbeat>();
  private sweepTimer?: NodeJS.Timeout;
  private sweeping = false;
  private loaded?: Promise<void>;

  constructor(
    @Inject(Messaging) private readonly messaging: Messaging,
    @Inject(CanaryState) private readonly state: CanaryState,
    @Inject(CanaryCommands) private readonly commands: CanaryCommands,
    @Inject(CanaryMetrics) metrics: CanaryMetrics,
    @Inject(CANARY_CONFIG) private readonly config: CanaryConfig,
  ) {
    metrics.observeEngines(() =>
      this.state.watchedEngineIds().filter((id) => {
        const engine = this.state.engine(id);
        return engine.status === 'watched' && engine.health === 'STALE';
      }),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.load();
    this.sweepTimer = setInterval(() => void this.sweep(), this.config.CANARY_HEARTBEAT_SWEEP_MS);
  }

  beforeApplicationShutdown(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }

  lastHeartbeatAt(engineId: string): string | null {
    return this.last.get(engineId)?.at ?? null;
  }

  /** The heartbeat interval the engine declared in its newest heartbeat; null when it declared none. */
  declaredIntervalMs(engineId: string): number | null {
    return this.last.get(engineId)?.report.intervalMs ?? null;
  }

  /** What the engine's newest heartbeat reported; null where it said nothing. */
  lastReport(
    engineId: string,
  ): Pick<EngineHeartbeatView, 'policyRevision' | 'sdk' | 'activeSessions' | 'uptimeS'> {
    const report = this.last.get(engineId)?.report;
    return {
      policyRevision: report?.policyRevision ?? null,
      sdk: report?.sdk ?? null,
      activeSessions: report?.activeSessions ?? null,
      uptimeS: report?.uptimeS ?? null,
    };
  }

  /**
   * One heartbeat fact. Its time is when the engine sent it, capped at now: a redelivered old
   * heartbeat cannot make a silent engine look alive, a fast engine clock cannot either. A
   * sign-off counts only as the newest heartbeat seen: a redelivered one must not take an engine
   * that has come back offline again.
   */
  async onHeartbeat(envelope: Envelope, engineId: string, signingOff = false): Promise<void> {
    await this.load();
    const now = new Date().toISOString();
    const at = envelope.occurredAt < now ? envelope.occurredAt : now;
    const previous = this.lastHeartbeatAt(engineId);
    if (!previous || at > previous) this.remember(engineId, at, envelope);
    const signsOff = signingOff && (!previous || at >= previous);
    await this.commands.engine(
      engineId,
      {
        // Under the engine's lock, after the commands before it are stored: a sweep that judged the
        // engine silent before this heartbeat came, and is storing its staleness meanwhile, is seen
        // (the engine is restored now, not at its next heartbeat); and its dead-man pause request is
        // read too, else the engine would be restored paused, its resume naming no request.
        prepare: async () => {
          const current = this.state.engine(engineId);
          if (current.status === 'watched' && current.health === 'ALIVE' && !signsOff) return null;
          const pauseRequestId =
            current.status === 'watched' && current.health === 'STALE'
              ? await this.stalePauseRequestId(engineId)
              : null;
          return {
            type: 'RecordHeartbeat',
            data: { engineId, heartbeatAt: at, signingOff: signsOff, pauseRequestId, now },
          };
        },
      },
      CANARY_ACTOR,
      envelope.id,
    );
  }

  /**
   * The envelope id of the dead-man pause request of a STALE engine's silence, which its
   * auto-resume names (the gate lifts only the pause that request caused, never one a probe asked
   * for first). Read back from the engine's events: the state folds no envelope ids, and a silence
   * ends once, so this read is rare.
   */
  private async stalePauseRequestId(engineId: string): Promise<string | null> {
    const { events } = await this.messaging.eventStore.read(this.state.engines.subjectOf(engineId));
    return stalePauseRequestId(
      events.map(({ envelope }) => ({
        id: envelope.id,
        event: toDomainEvent(envelope) as EngineHeartbeatEvent,
      })),
    );
  }

  /** Judges every watched engine's silence now (the timer calls it; tests may too). */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const engineId of this.state.watchedEngineIds()) {
        const engine = this.state.engine(engineId);
        if (engine.status !== 'watched' || !engine.enabled) continue;
        // ALIVE: judged; STALE: only to complete what its staleness left unstored.
        if (engine.health !== 'ALIVE' && !staleIncomplete(engine)) continue;
        // Its newest heartbeat signed off: it is stopping on purpose, and that heartbeat's command
        // (not applied yet: after a restart, or while JetStream does not store it) makes it OFFLINE.
        if (this.last.get(engineId)?.report.signingOff) continue;
        await this.commands
          .engine(
            engineId,
            {
              // Under the engine's lock: a heartbeat that came while the command waited its turn
              // counts (one that comes while its staleness is stored restores the engine after it).
              prepare: () =>
                Promise.resolve({
                  type: 'CheckHeartbeat',
                  data: {
                    engineId,
                    lastHeartbeatAt: this.lastHeartbeatAt(engineId),
                    intervalMs: this.declaredIntervalMs(engineId),
                    now: new Date().toISOString(),
                  },
                }),
            },
            CANARY_ACTOR,
          )
          .catch((error: unknown) =>
            this.log.warn(`engine ${engineId}: sweep failed: ${(error as Error).message}`),
          );
      }
    } finally {
      this.sweeping = false;
    }
  }

  private remember(engineId: string, at: string, envelope: Envelope): void {
    this.last.set(engineId, { at, report: envelope.data as DataOf<typeof HeartbeatReported> });
  }

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      await this.commands.ready();
      const stream = this.messaging.naming.streams.ingest.name;
      for (const engineId of this.state.watchedEngineIds()) {
        const subject = this.messaging.naming.ingestSubject('heartbeat', engineId);
        const msg = await this.messaging.jsm.streams
          .getMessage(stream, { last_by_subj: subject })
          .catch(() => null);
        if (!msg) continue;
        try {
          // Only what the consumer would take: a refused message (parked there) must not count.
          const envelope = decodeEnvelope(msg.data, this.messaging.catalogue);
          const heartbeat = heartbeatOf(envelope);
          if (heartbeat.engineId !== engineId) {
            throw new ValidationError(`a heartbeat of ${heartbeat.engineId} on ${subject}`);
          }
          const stored = msg.time.toISOString();
          const at = envelope.occurredAt < stored ? envelope.occurredAt : stored;
          const previous = this.lastHeartbeatAt(engineId);
          if (!previous || at > previous) this.remember(engineId, at, envelope);
        } catch (error) {
          this.log.warn(`engine ${engineId}: last heartbeat unreadable: ${(error as Error).message}`);
        }
      }
    })();
    return this.loaded;
  }
}
