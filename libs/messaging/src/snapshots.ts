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
  /**
   * The versions of the code that folded `state` (`stateVersionOf`). Absent in snapshots written
   * before 2026-12-07 14:00 UTC, which a reader that expects a version does not use.
   */
  readonly stateVersion?: string;
}

/** What a reader needs of a snapshot to resume from it. */
export interface SnapshotExpectation {
  /** The events stream it reads now (`EventStore.streamCreated`). */
  readonly streamCreated?: string;
  /** The versions its code folds with (`stateVersionOf`). */
  readonly stateVersion?: string;
}

/** A snapshot to resume from, or why the one stored is not one (none stored: neither). */
export type LoadedSnapshot<State> =
  | { readonly snapshot: Snapshot<State>; readonly ignored?: undefined }
  | { readonly snapshot?: undefined; readonly ignored?: string };

/**
 * The version a snapshot of these aggregate types is folded at: each type with its decider's
 * `stateVersion` (default 1). Declaring another aggregate type changes it too: the snapshot's
 * position would otherwise lie past events of that type that were never folded.
 */
export function stateVersionOf(
  aggregates: readonly { readonly aggregateType: string; readonly stateVersion?: number }[],
): string {
  return aggregates.map((a) => `${a.aggregateType}@${a.stateVersion ?? 1}`).join(' ');
}

/** The KV bucket `name` (one value per key), created if it is not there yet. */
export async function openBucket(js: JetStreamClient, name: string, replicas = 1): Promise<KV> {
  const kvm = new Kvm(js);
  try {
    return await kvm.create(name, { history: 1, replicas });
  } catch (error) {
    // Another service created it at the same moment (nats-server then says the subjects
    // overlap): use theirs, if it is there.
    const kv = await kvm.open(name).catch(() => undefined);
    if (!kv) throw error;
    return kv;
  }
}

/** A KV value is one NATS message: the server's default max payload is 1 MB, headers included. */
export const MAX_SNAPSHOT_BYTES = 900_000;

/** Snapshots of folded service state in a KV bucket (one key per service state). */
export class SnapshotStore {
  private constructor(private readonly kv: KV) {}

  static async open(js: JetStreamClient, naming: Naming, replicas = 1): Promise<SnapshotStore> {
    return new SnapshotStore(await openBucket(js, naming.snapshotBucket, replicas));
  }

  /**
   * The snapshot under `key`, unless it does not meet `expected`: of another events stream (its
   * sequences mean nothing in this one), or folded by code of another state version. `ignored`
   * says which, for the reader's log.
   */
  async load<State>(key: string, expected: SnapshotExpectation = {}): Promise<LoadedSnapshot<State>> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return {};
    const snapshot = JSON.parse(gunzipSync(entry.value).toString('utf8')) as Snapshot<State>;
    if (
      expected.streamCreated !== undefined &&
      snapshot.streamCreated !== undefined &&
      snapshot.streamCreated !== expected.streamCreated
    )
      return { ignored: `of an events stream created at ${snapshot.streamCreated}` };
    if (expected.stateVersion !== undefined && snapshot.stateVersion !== expected.stateVersion)
      return {
        ignored: `of state version ${snapshot.stateVersion ?? '(none)'}, not ${expected.stateVersion}`,
      };
    return { snapshot };
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
