import { gunzipSync, gzipSync } from 'node:zlib';
import { Kvm, type KV } from '@nats-io/kv';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Naming } from '@bifrost/contracts';

export interface Snapshot<State> {
  readonly state: State;
  /** Last BIFROST_EVENTS sequence folded into `state`. */
  readonly lastSequence: number;
  readonly takenAt: string;
  /**
   * When the events stream was created (`EventStore.streamCreated`): sequences mean something only
   * in that stream, so a snapshot of a stream since deleted and created again is not used. Absent
   * in snapshots written before 2026-12-05.
   */
  readonly streamCreated?: string;
}

/** A KV value is one NATS message: the server's default max payload is 1 MB, headers included. */
export const MAX_SNAPSHOT_BYTES = 900_000;

/** Snapshots of folded service state in a KV bucket (one key per service state). */
export class SnapshotStore {
  private constructor(private readonly kv: KV) {}

  static async open(js: JetStreamClient, naming: Naming, replicas = 1): Promise<SnapshotStore> {
    const kvm = new Kvm(js);
    try {
      return new SnapshotStore(await kvm.create(naming.snapshotBucket, { history: 1, replicas }));
    } catch (error) {
      // Another service created it at the same moment (nats-server then says the subjects
      // overlap): use theirs, if it is there.
      const kv = await kvm.open(naming.snapshotBucket).catch(() => undefined);
      if (!kv) throw error;
      return new SnapshotStore(kv);
    }
  }

  /** The snapshot under `key`; undefined when there is none or it is of another `streamCreated`. */
  async load<State>(key: string, streamCreated?: string): Promise<Snapshot<State> | undefined> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
    const snapshot = JSON.parse(gunzipSync(entry.value).toString('utf8')) as Snapshot<State>;
    const ofAnotherStream =
      streamCreated !== undefined &&
      snapshot.streamCreated !== undefined &&
      snapshot.streamCreated !== streamCreated;
    return ofAnotherStream ? undefined : snapshot;
  }

  /**
   * Stored gzipped: states with many aggregates stay well under the server's max payload. A
   * snapshot still larger than {@link MAX_SNAPSHOT_BYTES} once compressed is not stored (the
   * previous one stays, and a restart replays more): `stored: false` says so, with its size.
   */
  async save<State>(key: string, snapshot: Snapshot<State>): Promise<{ stored: boolean; bytes: number }> {
    const value = gzipSync(JSON.stringify(snapshot));
    if (value.length > MAX_SNAPSHOT_BYTES) return { stored: false, bytes: value.length };
    await this.kv.put(key, value);
    return { stored: true, bytes: value.length };
  }

  async remove(key: string): Promise<void> {
    await this.kv.purge(key);
  }
}
