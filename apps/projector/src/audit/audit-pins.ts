import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { defaultStreamSettings, openBucket, type Messaging } from '@bifrost/messaging';
import { type ChainHead } from './audit-chain';

/** The key of the pinned audit-log entry in the audit bucket (ADR 0019). */
export const AUDIT_PIN_KEY = 'pinned-entry';

/** The pinned entry as stored, with the revision a guarded write must name (0: none stored). */
export interface StoredPin {
  readonly entry?: ChainHead;
  readonly revision: number;
  /** Set when an operator stored the entry (`bifrost-audit accept`), not a writer. */
  readonly acceptedAt?: string;
}

export const sameEntry = (a: ChainHead | undefined, b: ChainHead | undefined): boolean =>
  a !== undefined && b !== undefined && a.seq === b.seq && a.hash === b.hash;

/**
 * The audit-log entry the projector verifies against, kept in the KV bucket `bifrost_audit` so
 * that it outlives the process (ADR 0019): the writer advances it after its commits, an operator's
 * `bifrost-audit accept` replaces it. Every write names the revision it read, so neither
 * overwrites what the other wrote without reading it first.
 */
export class AuditPins {
  private bucket?: Promise<KV>;

  /** In `messaging`'s namespace; the bucket is opened, or created with the streams' replicas, at first use. */
  constructor(private readonly messaging: Pick<Messaging, 'js' | 'naming' | 'options'>) {}

  async load(): Promise<StoredPin> {
    const stored = await (await this.kv()).get(AUDIT_PIN_KEY);
    if (!stored || stored.operation !== 'PUT' || stored.length === 0) {
      return { revision: stored?.revision ?? 0 };
    }
    const { seq, hash, acceptedAt } = stored.json<ChainHead & { acceptedAt?: string }>();
    return { entry: { seq, hash }, revision: stored.revision, ...(acceptedAt ? { acceptedAt } : {}) };
  }

  /**
   * Stores `entry` if the key is still at `revision`: the new revision, or a rejection if not
   * ({@link isWrongRevision}). `acceptedAt` marks an operator's acceptance.
   */
  async save(entry: ChainHead, revision: number, acceptedAt?: string): Promise<number> {
    const value = JSON.stringify({ seq: entry.seq, hash: entry.hash, ...(acceptedAt ? { acceptedAt } : {}) });
    const kv = await this.kv();
    return revision === 0 ? kv.create(AUDIT_PIN_KEY, value) : kv.update(AUDIT_PIN_KEY, value, revision);
  }

  private kv(): Promise<KV> {
    const { js, naming, options } = this.messaging;
    this.bucket ??= openBucket(
      js,
      naming.auditBucket,
      (options.streams ?? defaultStreamSettings).replicas,
    ).catch((error: unknown) => {
      this.bucket = undefined;
      throw error;
    });
    return this.bucket;
  }
}

/**
 * The writer's side: the newest pinned entry is written in the background, one write at a time and
 * only the latest (a commit does not wait for the bucket). A write that finds the key changed
 * (an operator accepted the log, or another writer advanced it) reads the revision again and
 * writes once more: the writer's entry is one it has just seen the log hold.
 */
export class PinWriter {
  private revision = 0;
  private pending?: ChainHead;
  private writing?: Promise<void>;

  constructor(
    private readonly pins: AuditPins,
    private readonly onError: (error: unknown, entry: ChainHead) => void,
  ) {}

  /** Reads the stored entry (after writing what is pending) and takes its revision. */
  async load(): Promise<StoredPin> {
    await this.flush();
    const stored = await this.pins.load();
    this.revision = stored.revision;
    return stored;
  }

  /** Adopts a stored entry read by {@link load} or {@link AuditPins.load}: its revision is ours now. */
  adopt(stored: StoredPin): void {
    this.revision = stored.revision;
  }

  offer(entry: ChainHead): void {
    this.pending = entry;
    this.writing ??= this.drain().finally(() => {
      this.writing = undefined;
    });
  }

  /** Resolves once what was offered has been written (or failed). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    for (let entry = this.pending; entry; entry = this.pending) {
      this.pending = undefined;
      try {
        this.revision = await this.write(entry);
      } catch (error) {
        this.onError(error, entry);
      }
    }
  }

  private async write(entry: ChainHead): Promise<number> {
    try {
      return await this.pins.save(entry, this.revision);
    } catch (error) {
      if (!isWrongRevision(error)) throw error;
      this.revision = (await this.pins.load()).revision;
      return this.pins.save(entry, this.revision);
    }
  }
}

/** nats-server's answer to a write guarded by a revision the key is no longer at. */
export function isWrongRevision(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence;
}
