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

/** Snapshots of folded service state in a KV bucket (one key per service state). */
export class SnapshotStore {
  private constructor(private readonly kv: KV) {}

  static async open(js: JetStreamClient, naming: Naming, replicas = 1): Promise<SnapshotStore> {
    const kv = await new Kvm(js).create(naming.snapshotBucket, { history: 1, replicas });
    return new SnapshotStore(kv);
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

  /** Stored gzipped: states with many aggregates stay well under the server's max payload. */
  async save<State>(key: string, snapshot: Snapshot<State>): Promise<void> {
    await this.kv.put(key, gzipSync(JSON.stringify(snapshot)));
  }

  async remove(key: string): Promise<void> {
    await this.kv.purge(key);
  }
}
