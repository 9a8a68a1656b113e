import { type ChainVerification } from '@bifrost/audit';
import { type AuditChainVerified, type DataOf } from '@bifrost/contracts';
import { type Counter } from 'prom-client';
import { type ProjectorLogger } from '../projector/projector';

export type AuditChainVerifiedData = DataOf<typeof AuditChainVerified>;

/** How soon a standby or a writer still catching up looks again whether it should verify. */
const NOT_READY_RETRY_MS = 5_000;

/** What one verification run found, as `system.AuditChainVerified` reports it. */
export function chainVerifiedData(
  result: ChainVerification,
  startedAt: string,
  durationMs: number,
): AuditChainVerifiedData {
  return result.ok
    ? {
        intact: true,
        rowsVerified: result.count,
        throughSeq: result.lastSeq,
        headHash: result.lastHash,
        startedAt,
        durationMs,
      }
    : {
        intact: false,
        rowsVerified: result.count,
        throughSeq: result.firstBadSeq - 1,
        break: { seq: result.firstBadSeq, reason: result.reason },
        startedAt,
        durationMs,
      };
}

export interface AuditVerificationOptions {
  /** Between runs; 0 turns the verification off. */
  readonly intervalMs: number;
  /** Whether this instance is the writer and has caught up: only then does it verify. */
  readonly isReady: () => boolean;
  readonly verify: () => Promise<ChainVerification>;
  readonly publish: (data: AuditChainVerifiedData) => Promise<void>;
  readonly logger: ProjectorLogger;
  readonly runs: Counter<'result'>;
}

/**
 * The projector writer's periodic re-verification of the whole audit log, reported as an event so
 * that the gate's go-live checklist item `auditChainVerified` follows it (docs/projector.md "Audit
 * log verification"). The first run comes as soon as the instance is the writer and has caught up,
 * then one every interval. A run that cannot read the log reports nothing: the last report stands.
 */
export class AuditVerification {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: AuditVerificationOptions) {}

  start(): void {
    if (this.options.intervalMs > 0) this.schedule(0);
  }

  /** No run starts after this; resolves once a run under way has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One run: verify, count, report. Never rejects. */
  private async runOnce(): Promise<void> {
    const { verify, publish, logger, runs } = this.options;
    const started = Date.now();
    let result: ChainVerification;
    try {
      result = await verify();
    } catch (error) {
      runs.inc({ result: 'error' });
      logger.warn({ err: error }, 'could not verify the audit log; the last report stands');
      return;
    }
    runs.inc({ result: result.ok ? 'intact' : 'broken' });
    const data = chainVerifiedData(result, new Date(started).toISOString(), Date.now() - started);
    if (!data.intact) logger.error({ verification: data }, 'the audit log is broken');
    try {
      await publish(data);
    } catch (error) {
      logger.warn({ err: error, verification: data }, 'could not report the audit log verification');
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick();
    }, ms);
  }

  private async tick(): Promise<void> {
    if (!this.options.isReady()) {
      this.schedule(Math.min(this.options.intervalMs, NOT_READY_RETRY_MS));
      return;
    }
    await this.runOnce();
    this.schedule(this.options.intervalMs);
  }
}
