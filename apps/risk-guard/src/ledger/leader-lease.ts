import type { KV } from '@nats-io/kv';

interface LeaseValue {
  readonly holder: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/**
 * Single active instance through a lease in NATS KV. Taking it is create-if-absent, or an update
 * guarded by the revision read when the previous holder's lease has run out; renewing is an
 * update guarded by the revision read. Whoever loses a revision race is not the leader.
 * Holders must renew well within `ttlMs`, and clocks must agree to within a fraction of it.
 */
export class LeaderLease {
  private revision = 0;
  private validUntil = 0;
  /** Until when another holder's lease runs, as last read (0: none seen, or it had run out). */
  private otherUntil = 0;
  private takes = 0;

  constructor(
    private readonly kv: KV,
    private readonly key: string,
    readonly holder: string,
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** True while our last successful take or renewal has not run out. */
  get held(): boolean {
    return this.revision > 0 && this.clock() < this.validUntil;
  }

  /**
   * Counts the times the lease was taken rather than renewed: found free, or in another holder's
   * name (who may have led in between, while this instance stalled).
   */
  get term(): number {
    return this.takes;
  }

  /** True while the lease another instance held, when we last read it, has not run out. */
  get heldElsewhere(): boolean {
    return this.clock() < this.otherUntil;
  }

  /** Takes the lease when free or expired, renews it when ours; false when someone else holds it. */
  async acquire(): Promise<boolean> {
    const now = this.clock();
    const value: LeaseValue = { holder: this.holder, expiresAt: now + this.ttlMs };
    try {
      const entry = await this.kv.get(this.key);
      if (!entry || entry.operation !== 'PUT') {
        this.revision = await this.kv.create(this.key, JSON.stringify(value));
        this.takes += 1;
      } else {
        const current = entry.json<LeaseValue>();
        // Ours whatever the revision: holders are unique per process, so a lease in our name is one
        // we took, e.g. by a renewal whose answer was lost. Taking it back now, not once it ran out,
        // keeps the desk from standing without a leader for up to a lease.
        const ours = current.holder === this.holder;
        if (!ours && current.expiresAt > now) {
          this.otherUntil = current.expiresAt;
          return this.lost();
        }
        this.revision = await this.kv.update(this.key, JSON.stringify(value), entry.revision);
        if (!ours) this.takes += 1;
      }
      this.validUntil = value.expiresAt;
      this.otherUntil = 0;
      return true;
    } catch {
      return this.lost();
    }
  }

  /** Gives the lease up at once (marks it expired), so a standby need not wait out the TTL. */
  async release(): Promise<void> {
    if (this.revision === 0) return;
    const revision = this.revision;
    this.lost();
    const value: LeaseValue = { holder: this.holder, expiresAt: 0 };
    await this.kv.update(this.key, JSON.stringify(value), revision).catch(() => undefined);
  }

  private lost(): false {
    this.revision = 0;
    this.validUntil = 0;
    return false;
  }
}
