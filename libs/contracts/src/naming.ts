/**
 * Subject, stream, consumer and bucket names: the only place they are spelled out (DESIGN §4).
 *
 * A namespace (env `BIFROST_NAMESPACE`) prefixes every subject and stream so that several Bifrost
 * stacks, or isolated tests, can share one NATS server. The empty namespace gives the canonical names.
 */

export const CONTEXTS = [
  'gate',
  'risk',
  'heimdall',
  'tripwire',
  'canary',
  'governance',
  'system',
  'gateway',
] as const;
export type Context = (typeof CONTEXTS)[number];

export const INGEST_KINDS = ['kpi', 'outcome', 'heartbeat', 'command', 'incident', 'sandbox'] as const;
export type IngestKind = (typeof INGEST_KINDS)[number];

export const STREAM_KEYS = ['events', 'decisions', 'ingest', 'dlq'] as const;
export type StreamKey = (typeof STREAM_KEYS)[number];

const TOKEN = /^[A-Za-z0-9_-]+$/;
/** Aggregate ids may also join two ids with `:` (`<engineId>:<strategyId>`). */
const AGGREGATE_ID = /^[A-Za-z0-9_-]+(:[A-Za-z0-9_-]+)*$/;

/** A subject token must not contain `.`, `*`, `>` or whitespace; ids are checked before they reach NATS. */
export function isSubjectToken(value: string): boolean {
  return TOKEN.test(value);
}

function token(value: string, what: string): string {
  if (!isSubjectToken(value)) {
    throw new Error(`invalid ${what} "${value}": use letters, digits, "-" or "_"`);
  }
  return value;
}

export interface StreamNames {
  readonly name: string;
  readonly subjects: string;
}

export interface Naming {
  readonly namespace: string;
  readonly streams: Readonly<Record<StreamKey, StreamNames>>;
  /** `bifrost.evt.<context>.<aggregateType>.<aggregateId>`: one subject per aggregate. */
  eventSubject(context: Context, aggregateType: string, aggregateId: string): string;
  /** Wildcard over one context's events, for state rebuild: `bifrost.evt.<context>.>`. */
  contextEvents(context: Context): string;
  /** `bifrost.dec.<context>.<engineId>` */
  decisionSubject(context: Context, engineId: string): string;
  /** `bifrost.ingest.<kind>.<engineId>` */
  ingestSubject(kind: IngestKind, engineId: string): string;
  /** `bifrost.rpc.<service>.<operation>`; operation may be dotted (`cmd.kill-switch`). */
  rpcSubject(service: string, operation: string): string;
  /** `bifrost.dlq.<service>` */
  dlqSubject(service: string): string;
  /** Turns a canonical subject or pattern (`bifrost.…`) into this namespace's subject. */
  qualify(canonicalSubject: string): string;
  /** Inverse of `qualify`. */
  canonical(subject: string): string;
  /** Durable consumer name `<service>__<purpose>`. */
  consumerName(service: string, purpose: string): string;
  /** Snapshot KV bucket. */
  readonly snapshotBucket: string;
  /** KV bucket of the entry the audit log must hold (ADR 0019): not a snapshot, never deleted on a restore. */
  readonly auditBucket: string;
}

export function createNaming(namespace = ''): Naming {
  if (namespace !== '') token(namespace, 'namespace');
  const prefix = namespace === '' ? '' : `${namespace}.`;
  const streamPrefix = namespace === '' ? '' : `${namespace.toUpperCase().replace(/-/g, '_')}_`;
  const qualify = (subject: string): string => `${prefix}${subject}`;
  const stream = (name: string, subjects: string): StreamNames => ({
    name: `${streamPrefix}${name}`,
    subjects: qualify(subjects),
  });
  return {
    namespace,
    streams: {
      events: stream('BIFROST_EVENTS', 'bifrost.evt.>'),
      decisions: stream('BIFROST_DECISIONS', 'bifrost.dec.>'),
      ingest: stream('BIFROST_INGEST', 'bifrost.ingest.>'),
      dlq: stream('BIFROST_DLQ', 'bifrost.dlq.>'),
    },
    eventSubject: (context, aggregateType, aggregateId) => {
      if (!AGGREGATE_ID.test(aggregateId)) throw new Error(`invalid aggregate id "${aggregateId}"`);
      return qualify(`bifrost.evt.${context}.${token(aggregateType, 'aggregate type')}.${aggregateId}`);
    },
    contextEvents: (context) => qualify(`bifrost.evt.${context}.>`),
    decisionSubject: (context, engineId) => qualify(`bifrost.dec.${context}.${token(engineId, 'engine id')}`),
    ingestSubject: (kind, engineId) => qualify(`bifrost.ingest.${kind}.${token(engineId, 'engine id')}`),
    rpcSubject: (service, operation) =>
      qualify(
        `bifrost.rpc.${token(service, 'service')}.${operation
          .split('.')
          .map((t) => token(t, 'operation'))
          .join('.')}`,
      ),
    dlqSubject: (service) => qualify(`bifrost.dlq.${token(service, 'service')}`),
    qualify,
    canonical: (subject) =>
      prefix !== '' && subject.startsWith(prefix) ? subject.slice(prefix.length) : subject,
    consumerName: (service, purpose) => `${token(service, 'service')}__${token(purpose, 'purpose')}`,
    snapshotBucket: `${streamPrefix.toLowerCase()}bifrost_snapshots`,
    auditBucket: `${streamPrefix.toLowerCase()}bifrost_audit`,
  };
}

/** Splits `bifrost.evt.<context>.<aggregateType>.<aggregateId>` (canonical form) into its parts. */
export function parseEventSubject(
  canonicalSubject: string,
): { context: string; aggregateType: string; aggregateId: string } | undefined {
  const parts = canonicalSubject.split('.');
  if (parts.length !== 5 || parts[0] !== 'bifrost' || parts[1] !== 'evt') return undefined;
  return { context: parts[2] as string, aggregateType: parts[3] as string, aggregateId: parts[4] as string };
}
