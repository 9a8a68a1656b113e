import { backoffDelay } from './backoff.policy';
import type { ConnectionState } from './sdk.types';

/**
 * How long a connection must last for its loss to start a new outage (a retry at once, the backoff
 * and `maxRetries` counted afresh). One lost sooner continues the outage it ended.
 */
export const MIN_HELD_CONNECTION_MS = 10_000;

/**
 * Keeps a transport connected: tries at once, then after 1, 2, 4 … 60 s (±20 %) until an attempt
 * succeeds; starts over when a connection that held (`MIN_HELD_CONNECTION_MS`) is lost. After
 * `maxRetries` retries in a row have failed it gives up for good: `failed`, which nothing but
 * `stop()` leaves. The transport decides what "connect" means.
 */
export class ConnectionLoop {
  private current: ConnectionState = 'connecting';
  private attempt = 0;
  private connectedAtMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lostDuringAttempt = false;
  private stopped = false;

  constructor(
    private readonly tryConnect: () => Promise<boolean>,
    private readonly onState: (state: ConnectionState) => void,
    private readonly maxRetries: number = Number.POSITIVE_INFINITY,
    private readonly random: () => number = Math.random,
  ) {}

  get state(): ConnectionState {
    return this.current;
  }

  start(): void {
    this.set('connecting');
    void this.run();
  }

  /**
   * The connection went away: reconnect, first at once, then with backoff. A connection lost soon
   * after it was made (a server that accepts, then drops every publish; a gateway whose
   * `/health/live` answers but whose endpoints drop the request) ends no outage: retrying at once
   * would reconnect in a tight loop, so the retry waits for the next step of the backoff.
   */
  lost(): void {
    if (this.stopped) return;
    if (this.running) {
      this.lostDuringAttempt = true;
      return;
    }
    // Not connected means a retry is already scheduled.
    if (this.current !== 'connected') return;
    this.set('reconnecting');
    if (Date.now() - this.connectedAtMs < MIN_HELD_CONNECTION_MS) {
      this.retryLater();
      return;
    }
    this.attempt = 0;
    void this.run();
  }

  /** Proof of a working connection obtained outside an attempt (an HTTP answer): stop retrying. */
  found(): void {
    if (this.stopped || this.running || this.current === 'connected' || this.current === 'failed') return;
    this.clearTimer();
    this.markConnected();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.set('closed');
  }

  private async run(): Promise<void> {
    this.running = true;
    this.lostDuringAttempt = false;
    let ok = false;
    try {
      ok = await this.tryConnect();
    } catch {
      ok = false;
    }
    this.running = false;
    if (this.stopped) return;
    if (ok && !this.lostDuringAttempt) {
      this.markConnected();
      return;
    }
    this.retryLater();
  }

  /**
   * `attempt` is not reset here but when a connection that held is lost: until then it may still
   * turn out to be part of the outage.
   */
  private markConnected(): void {
    this.connectedAtMs = Date.now();
    this.set('connected');
  }

  private retryLater(): void {
    this.attempt += 1;
    if (this.attempt > this.maxRetries) {
      this.set('failed');
      return;
    }
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.run();
      },
      backoffDelay(this.attempt, this.random),
    );
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private set(state: ConnectionState): void {
    if (state === this.current && state !== 'connecting') return;
    this.current = state;
    this.onState(state);
  }
}
