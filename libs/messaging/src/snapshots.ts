import { gunzipSync, gzipSync } from 'node:zlib';
import { Kvm, type KV } from '@nats-io/kv';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Naming } from '@bifrost/contracts';
import type { EventStore, StoredEnvelope } from './event-store';

export interface Snapshot<State> {
  readonly state: State;
  /** Last BIFROST_EVENTS sequence folded into `state`. */
  readonly lastSequence: number;
  readonly takenAt: string;
}

/** Snapshots of folded service state in a KV bucket (one key per service state). */
export class SnapshotStore {
  private constructor(private readonly kv: KV) {}

  static async open(js: JetStreamClient, naming: Naming, replicas = 1): Promise<SnapshotStore> {
    const kv = await new Kvm(js).create(naming.snapshotBucket, { history: 1, replicas });
    return new SnapshotStore(kv);
  }

  async load<State>(key: string): Promise<Snapshot<State> | undefined> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
    return JSON.parse(gunzipSync(entry.value).toString('utf8')) as Snapshot<State>;
  }

  /** Stored gzipped: states with many aggregates stay well under the server's max payload. */
  async save<State>(key: string, snapshot: Snapshot<State>): Promise<void> {
    await this.kv.put(key, gzipSync(JSON.stringify(snapshot)));
  }

  async remove(key: string): Promise<void> {
    await this.kv.purge(key);
  }
}

/**
 * State at start-up = snapshot (if any) + every event after it. Without a snapshot this is a full
 * replay, which must reach the same state (tested).
 */
export async function rebuildState<State>(
  store: EventStore,
  snapshots: SnapshotStore | undefined,
  options: {
    readonly snapshotKey: string;
    readonly filter: string;
    readonly initialState: () => State;
    readonly apply: (state: State, event: StoredEnvelope) => State;
  },
): Promise<{ state: State; lastSequence: number; replayed: number; fromSnapshot: boolean }> {
  const snapshot = await snapshots?.load<State>(options.snapshotKey);
  let state = snapshot ? snapshot.state : options.initialState();
  let replayed = 0;
  const lastSequence = await store.readAll(options.filter, (snapshot?.lastSequence ?? 0) + 1, (event) => {
    state = options.apply(state, event);
    replayed += 1;
  });
  return { state, lastSequence, replayed, fromSnapshot: snapshot !== undefined };
}
