import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Actor, CycleReportSchema, ProposalSchema } from '@bifrost/contracts';
import { ForbiddenError } from '@bifrost/event-sourcing';
import { GOVERNANCE_AGENT, type GovernanceCommand, type GovernanceEvent } from '@bifrost/domain-governance';
import { uuidv7 } from '@bifrost/messaging';
import type { Logger } from '@bifrost/observability';
import { SERVICE_LOGGER } from '@bifrost/service';
import { GovernanceCommands } from '../commands/governance-commands.service';
import { GOVERNANCE_AGENT_CONFIG, type GovernanceAgentConfig } from '../governance-agent.config';
import { GovernanceMetrics } from '../governance.metrics';
import { GovernanceState } from '../state/governance-state';
import { nextWeeklyRun, parseWeeklySchedule, type WeeklySchedule } from './weekly-schedule';

const slotReportId = (engineId: string, slot: Date): string => `sched-${engineId}-${slot.toISOString()}`;

/** setTimeout's ceiling (~24.8 days); longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const WEEK_MS = 7 * 86_400_000;

/**
 * The agent's clockwork: every engine's breakers (and proposal expiry) on a fixed interval, and
 * the governance cycle on the weekly schedule or on demand. Several instances may run: the breaker
 * check is idempotent (an open event is not opened twice) and a scheduled cycle's report id names
 * its slot, so a second instance's run of the same slot changes nothing.
 */
@Injectable()
export class GovernanceCycles implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly schedule: WeeklySchedule | null;
  private interval?: NodeJS.Timeout;
  private timer?: NodeJS.Timeout;
  private next: Date | null = null;
  private stopped = false;
  private ticking = false;

  constructor(
    @Inject(GovernanceCommands) private readonly commands: GovernanceCommands,
    @Inject(GovernanceState) private readonly state: GovernanceState,
    @Inject(GOVERNANCE_AGENT_CONFIG) private readonly config: GovernanceAgentConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(GovernanceMetrics) private readonly metrics: GovernanceMetrics,
  ) {
    const text = config.GOVERNANCE_CYCLE_SCHEDULE.trim();
    this.schedule = text.toLowerCase() === 'off' ? null : parseWeeklySchedule(text);
    metrics.observe(() => this.state.enrolled());
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.state.onModuleInit();
    this.interval = setInterval(() => void this.tick(), this.config.GOVERNANCE_BREAKER_CHECK_INTERVAL_MS);
    this.interval.unref();
    const now = new Date();
    this.arm(now);
    void this.catchUp(now);
  }

  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.interval);
    clearTimeout(this.timer);
  }

  /** The next scheduled cycle, or null when the schedule is off. */
  nextRun(): Date | null {
    return this.next;
  }

  /**
   * Runs the cycle for one engine, whose failure the caller gets, or for every enrolled one: there
   * an engine whose cycle fails is logged and counted, and the others still run.
   */
  async run(
    trigger: 'schedule' | 'operator',
    actor: Actor,
    engineId?: string,
    slot?: Date,
  ): Promise<{ reports: CycleReportSchema[]; proposals: ProposalSchema[] }> {
    const engineIds = engineId ? [engineId] : this.state.enrolled().map((s) => s.engineId);
    const reports: CycleReportSchema[] = [];
    const proposals: ProposalSchema[] = [];
    for (const id of engineIds) {
      let events: GovernanceEvent[];
      try {
        events = await this.runCycle(id, trigger, actor, slot && slotReportId(id, slot));
      } catch (error) {
        // Refused for the actor (not an operator) is refused for every engine: said, not logged.
        if (engineId || error instanceof ForbiddenError) throw error;
        this.metrics.cycleFailed(id);
        this.logger.error({ err: error, engineId: id }, 'governance cycle failed');
        continue;
      }
      for (const event of events) {
        if (event.type === 'CycleCompleted') reports.push(event.data.report);
        if (event.type === 'ProposalCreated') proposals.push(event.data.proposal);
      }
    }
    return { reports, proposals };
  }

  private async runCycle(
    engineId: string,
    trigger: 'schedule' | 'operator',
    actor: Actor,
    reportId?: string,
  ): Promise<GovernanceEvent[]> {
    const { events } = await this.commands.engine(
      {
        type: 'RunCycle',
        data: {
          engineId,
          now: new Date().toISOString(),
          actor,
          trigger,
          reportId: reportId ?? `rpt-${uuidv7()}`,
          proposalId: `prop-${uuidv7()}`,
          proposalTtlDays: this.config.GOVERNANCE_PROPOSAL_TTL_DAYS,
        },
      },
      actor,
    );
    return events as GovernanceEvent[];
  }

  /**
   * A scheduled cycle whose append was cut short after its report, before the proposal the report
   * names (a crash, a failed publish): its slot run again completes that proposal. The report id is
   * read under the engine's lock, from the state the command is decided on: a report stored since
   * (the next slot's, another instance's) owes nothing, and its slot is not run again under the old
   * id; then the command is only the breaker check.
   */
  private async completeProposal(engineId: string): Promise<void> {
    const { events } = await this.commands.engine((): GovernanceCommand => {
      const now = new Date().toISOString();
      const s = this.state.engine(engineId);
      if (s.status !== 'enrolled' || s.proposalDue === null || s.lastCycle === null)
        return { type: 'CheckBreakers', data: { engineId, now } };
      return {
        type: 'RunCycle',
        data: {
          engineId,
          now,
          actor: GOVERNANCE_AGENT,
          trigger: 'schedule',
          reportId: s.lastCycle.reportId,
          proposalId: `prop-${uuidv7()}`,
          proposalTtlDays: this.config.GOVERNANCE_PROPOSAL_TTL_DAYS,
        },
      };
    }, GOVERNANCE_AGENT);
    // Logged once, when made: a proposal whose conditions no longer hold stays owed until the next
    // report, and the ticks meanwhile say nothing.
    for (const event of events as GovernanceEvent[]) {
      if (event.type !== 'ProposalCreated') continue;
      const { proposalId, reportId } = event.data.proposal;
      this.logger.warn(
        { engineId, reportId, proposalId },
        'completed the proposal of a governance cycle cut short',
      );
    }
  }

  private arm(after: Date): void {
    if (!this.schedule || this.stopped) return;
    const next = nextWeeklyRun(this.schedule, after);
    this.next = next;
    const wait = Math.min(MAX_TIMER_MS, next.getTime() - Date.now());
    this.timer = setTimeout(
      () => {
        if (Date.now() < next.getTime()) return this.arm(after);
        void this.run('schedule', GOVERNANCE_AGENT, undefined, next)
          .catch((error) => this.logger.error({ err: error }, 'scheduled governance cycle failed'))
          .finally(() => this.arm(next));
      },
      Math.max(0, wait),
    );
    this.timer.unref();
  }

  /**
   * The last slot, for every engine enrolled before it whose cycle has not run since (the agent was
   * down or restarting at the time): run once at start under that slot's report id, so that a week
   * is not skipped. Another instance doing the same changes nothing (the report id names the slot).
   */
  private async catchUp(now: Date): Promise<void> {
    if (!this.schedule) return;
    const slot = nextWeeklyRun(this.schedule, new Date(now.getTime() - WEEK_MS));
    for (const s of this.state.enrolled()) {
      if (this.stopped) return;
      const since = slot.toISOString();
      if (s.enrolledAt > since || (s.lastCycle && s.lastCycle.ranAt >= since)) continue;
      this.logger.warn(
        { engineId: s.engineId, slot },
        'running the scheduled governance cycle missed at its slot',
      );
      const reportId = slotReportId(s.engineId, slot);
      await this.runCycle(s.engineId, 'schedule', GOVERNANCE_AGENT, reportId).catch((error: unknown) => {
        this.metrics.cycleFailed(s.engineId);
        this.logger.error({ err: error, engineId: s.engineId }, 'governance cycle failed');
      });
    }
  }

  /**
   * One pass over every engine. A pass slower than the interval (many engines, a slow JetStream)
   * makes the intervals that come meanwhile skip: passes do not pile up over the same engines.
   */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.checkEngines();
    } finally {
      this.ticking = false;
    }
  }

  private async checkEngines(): Promise<void> {
    for (const s of this.state.enrolled()) {
      if (this.stopped) return;
      try {
        // Timed when its turn on the engine comes (under its lock), as every command of the agent.
        await this.commands.engine(
          () => ({ type: 'CheckBreakers', data: { engineId: s.engineId, now: new Date().toISOString() } }),
          GOVERNANCE_AGENT,
        );
        if (s.proposalDue) await this.completeProposal(s.engineId);
        const now = new Date().toISOString();
        if (s.proposals.some((p) => p.status === 'PENDING' && p.proposal.expiresAt <= now)) {
          await this.commands.engine(
            () => ({
              type: 'ExpireProposals',
              data: { engineId: s.engineId, now: new Date().toISOString() },
            }),
            GOVERNANCE_AGENT,
          );
        }
      } catch (error) {
        this.logger.warn({ err: error, engineId: s.engineId }, 'breaker check failed');
      }
    }
  }
}
