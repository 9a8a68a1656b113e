import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { DataOf, CanarySummaryReported, ProbeConfig } from '@bifrost/contracts';
import { NO_RESULTS, countCheck, type ProbeCounters } from '@bifrost/domain-canary';
import { Messaging, createEnvelope } from '@bifrost/messaging';
import { ServiceInfo } from '@bifrost/service';
import { CANARY_CONFIG, type CanaryConfig } from '../canary.config';
import { CANARY_ACTOR, CanaryCommands } from '../commands/canary-commands.service';
import { CanaryMetrics } from '../metrics/canary.metrics';
import { CanaryState } from '../state/canary-state';
import { runCheck, type CheckResult } from './probe-checks';

interface ProbeLoop {
  readonly config: string;
  stopped: boolean;
  wake?: () => void;
}

export interface ProbeRun {
  readonly counters: ProbeCounters;
  readonly last: (CheckResult & { at: string }) | null;
}

/**
 * Runs every defined probe on its own interval, each in its own loop: checks run concurrently and
 * a slow or hung target only delays its own probe (every check is bounded by its timeout). Check
 * results are counted here; only a status change becomes an event (plus the periodic summary).
 */
@Injectable()
export class ProbeScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('ProbeScheduler');
  private readonly loops = new Map<string, ProbeLoop>();
  private readonly runs = new Map<string, ProbeRun>();
  private tallies = new Map<string, { checks: number; failures: number }>();
  private summaryTimer?: NodeJS.Timeout;
  private summaryFrom = new Date().toISOString();
  private stopping = false;
  private summarizing = false;

  constructor(
    @Inject(Messaging) private readonly messaging: Messaging,
    @Inject(CanaryState) private readonly state: CanaryState,
    @Inject(CanaryCommands) private readonly commands: CanaryCommands,
    @Inject(CanaryMetrics) private readonly metrics: CanaryMetrics,
    @Inject(CANARY_CONFIG) private readonly config: CanaryConfig,
    @Inject(ServiceInfo) private readonly info: ServiceInfo,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.commands.ready();
    this.state.onApplied((stored) => {
      const type = stored.envelope.type;
      if (
        type === 'canary.ProbeDefined' ||
        type === 'canary.ProbeRemoved' ||
        type === 'canary.ProbeStatusChanged'
      )
        this.sync();
    });
    this.state.onRebuilt(() => this.sync());
    this.sync();
    this.summaryTimer = setInterval(() => void this.publishSummary(), this.config.CANARY_SUMMARY_INTERVAL_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.summaryTimer) clearInterval(this.summaryTimer);
    for (const loop of this.loops.values()) this.stop(loop);
    this.loops.clear();
  }

  /** The run of results of a probe (for views); a probe never checked has none. */
  run(probeName: string): ProbeRun {
    return this.runs.get(probeName) ?? { counters: NO_RESULTS, last: null };
  }

  /** Starts loops for new probes, restarts changed ones, stops removed ones. */
  sync(): void {
    if (this.stopping) return;
    const defined = new Map(this.state.definedProbes().map((s) => [s.probe.name, s]));
    for (const [name, loop] of this.loops) {
      const current = defined.get(name);
      if (!current || JSON.stringify(current.probe) !== loop.config) {
        this.stop(loop);
        this.loops.delete(name);
        this.runs.delete(name);
        if (!current) this.metrics.forget(name);
      }
    }
    for (const [name, s] of defined) {
      this.metrics.statusIs(name, s.health);
      if (this.loops.has(name)) continue;
      const loop: ProbeLoop = { config: JSON.stringify(s.probe), stopped: false };
      this.loops.set(name, loop);
      void this.loop(s.probe, loop);
    }
  }

  private stop(loop: ProbeLoop): void {
    loop.stopped = true;
    loop.wake?.();
  }

  private async loop(probe: ProbeConfig, loop: ProbeLoop): Promise<void> {
    const deps = {
      messaging: this.messaging,
      ...(this.config.DATABASE_URL ? { databaseUrl: this.config.DATABASE_URL } : {}),
    };
    // The default `nats` probe pings this service's own route, which is served only after start-up.
    await this.info.serving;
    while (!loop.stopped) {
      const startedAt = Date.now();
      const result = await runCheck(probe, deps);
      if (loop.stopped) break;
      await this.record(probe, result).catch((error: unknown) =>
        this.log.warn(`probe ${probe.name}: recording the check failed: ${(error as Error).message}`),
      );
      // Stopped while the check was recorded: its wake found no wait to end. Nothing awaits from
      // here until `loop.wake` is set, so a later stop cannot miss the wait.
      if (loop.stopped) break;
      const delay = Math.max(0, probe.intervalMs - (Date.now() - startedAt));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        loop.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async record(probe: ProbeConfig, result: CheckResult): Promise<void> {
    const now = new Date().toISOString();
    const counters = countCheck(this.run(probe.name).counters, result.passed);
    this.runs.set(probe.name, { counters, last: { ...result, at: now } });
    this.tally(probe.name, 1, result.passed ? 0 : 1);
    this.metrics.checked(probe.name, result.passed, counters.consecutiveFailures);
    await this.commands.probe(
      probe.name,
      {
        type: 'RecordCheck',
        data: {
          probeName: probe.name,
          passed: result.passed,
          detail: result.detail,
          latencyMs: result.latencyMs,
          counters,
          now,
        },
      },
      CANARY_ACTOR,
    );
  }

  private tally(probeName: string, checks: number, failures: number): void {
    const tally = this.tallies.get(probeName) ?? { checks: 0, failures: 0 };
    this.tallies.set(probeName, { checks: tally.checks + checks, failures: tally.failures + failures });
  }

  /**
   * One summary per interval instead of one event per check. A summary that could not be published
   * leaves its period and counts to the next one, which then covers both; while one is being
   * published, the next waits for the following interval.
   */
  async publishSummary(): Promise<void> {
    if (this.summarizing) return;
    this.summarizing = true;
    try {
      await this.summarize();
    } finally {
      this.summarizing = false;
    }
  }

  private async summarize(): Promise<void> {
    const to = new Date().toISOString();
    const from = this.summaryFrom;
    const tallies = this.tallies;
    this.tallies = new Map();
    this.summaryFrom = to;
    const data: DataOf<typeof CanarySummaryReported> = {
      from,
      to,
      probes: this.state.definedProbes().map((s) => {
        const tally = tallies.get(s.probe.name) ?? { checks: 0, failures: 0 };
        return {
          probeName: s.probe.name,
          status: s.health,
          checks: tally.checks,
          failures: tally.failures,
          consecutiveFailures: this.run(s.probe.name).counters.consecutiveFailures,
        };
      }),
      engines: this.state.watchedEngineIds().map((engineId) => {
        const engine = this.state.engine(engineId);
        return { engineId, status: engine.status === 'watched' ? engine.health : 'ALIVE' };
      }),
    };
    try {
      await this.messaging.publisher.publish(
        createEnvelope({
          type: 'canary.SummaryReported',
          subject: this.messaging.naming.eventSubject('canary', 'summary', to.slice(0, 10)),
          source: 'canary',
          actor: CANARY_ACTOR,
          data,
        }),
      );
    } catch (error) {
      this.log.warn(`summary not published, its counts go into the next: ${(error as Error).message}`);
      this.summaryFrom = from;
      for (const [name, tally] of tallies) this.tally(name, tally.checks, tally.failures);
    }
  }
}
