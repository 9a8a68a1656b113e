import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { Naming, StreamKey } from '@bifrost/contracts';

const DAY_NS = 24 * 60 * 60 * 1_000_000_000;
const MS_NS = 1_000_000;

export interface StreamSettings {
  readonly replicas: number;
  /** Retention of decision records; 0 = unlimited. */
  readonly decisionsMaxAgeDays: number;
  /** Retention of ingest facts; 0 = unlimited. */
  readonly ingestMaxAgeDays: number;
  /** Nats-Msg-Id dedupe window; DESIGN §4 asks for at least 2 minutes. */
  readonly duplicateWindowMs: number;
}

export const defaultStreamSettings: StreamSettings = {
  replicas: 1,
  decisionsMaxAgeDays: 30,
  ingestMaxAgeDays: 30,
  duplicateWindowMs: 2 * 60 * 1000,
};

/** The stream settings of a service's configuration (`@bifrost/config` `StreamConfig`). */
export function streamSettingsOf(config: {
  readonly STREAM_REPLICAS: number;
  readonly DECISIONS_RETENTION_DAYS: number;
  readonly INGEST_RETENTION_DAYS: number;
}): StreamSettings {
  return {
    ...defaultStreamSettings,
    replicas: config.STREAM_REPLICAS,
    decisionsMaxAgeDays: config.DECISIONS_RETENTION_DAYS,
    ingestMaxAgeDays: config.INGEST_RETENTION_DAYS,
  };
}

/** The fields Bifrost owns on each stream; anything else on the server is left alone. */
export type ManagedStreamConfig = Pick<
  StreamConfig,
  | 'name'
  | 'subjects'
  | 'retention'
  | 'storage'
  | 'max_age'
  | 'duplicate_window'
  | 'num_replicas'
  | 'discard'
  | 'allow_direct'
>;

export function streamConfigs(
  naming: Naming,
  settings: StreamSettings = defaultStreamSettings,
): ManagedStreamConfig[] {
  if (settings.duplicateWindowMs < 120_000) throw new Error('duplicate window must be at least 2 minutes');
  const maxAge: Record<StreamKey, number> = {
    events: 0,
    decisions: settings.decisionsMaxAgeDays * DAY_NS,
    ingest: settings.ingestMaxAgeDays * DAY_NS,
    dlq: 0,
  };
  return (Object.keys(naming.streams) as StreamKey[]).map((key) => ({
    name: naming.streams[key].name,
    subjects: [naming.streams[key].subjects],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: maxAge[key],
    duplicate_window: settings.duplicateWindowMs * MS_NS,
    num_replicas: settings.replicas,
    discard: DiscardPolicy.Old,
    allow_direct: true,
  }));
}

export class StreamConfigMismatchError extends Error {
  constructor(
    readonly stream: string,
    readonly differences: string[],
  ) {
    super(
      `stream ${stream} exists with a different configuration (${differences.join('; ')}); ` +
        'refusing to change it silently: fix the settings or migrate the stream by hand',
    );
    this.name = 'StreamConfigMismatchError';
  }
}

/**
 * Creates missing streams and verifies existing ones. nats-server 2.9 would accept an update that
 * changes retention or subjects without a word, so a difference is an error here, never an update.
 */
export async function provisionStreams(
  jsm: JetStreamManager,
  naming: Naming,
  settings: StreamSettings = defaultStreamSettings,
): Promise<void> {
  for (const wanted of streamConfigs(naming, settings)) {
    const info = () =>
      jsm.streams.info(wanted.name).catch((error: unknown) => {
        if (isStreamNotFound(error)) return undefined;
        throw error;
      });
    let existing = await info();
    if (!existing) {
      try {
        await jsm.streams.add(wanted);
        continue;
      } catch (error) {
        // Another service created it at the same moment: verify theirs like any existing stream.
        existing = await info();
        if (!existing) throw error;
      }
    }
    const differences = diff(wanted, existing.config);
    if (differences.length > 0) throw new StreamConfigMismatchError(wanted.name, differences);
  }
}

function diff(wanted: ManagedStreamConfig, actual: StreamConfig): string[] {
  const out: string[] = [];
  for (const key of Object.keys(wanted) as (keyof ManagedStreamConfig)[]) {
    const a = JSON.stringify(actual[key] ?? null);
    const w = JSON.stringify(wanted[key] ?? null);
    if (a !== w) out.push(`${key}: expected ${w}, found ${a}`);
  }
  return out;
}

export function isStreamNotFound(error: unknown): boolean {
  const e = error as { code?: unknown; name?: string; message?: string };
  return e?.code === 10059 || e?.name === 'StreamNotFoundError' || /stream not found/i.test(e?.message ?? '');
}
