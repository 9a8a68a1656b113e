import type { TSchema } from '@sinclair/typebox';
import { envelopeOf } from './envelope';
import { replyOf } from './errors';
import { createNaming, STREAM_KEYS, type Naming, type StreamKey } from './naming';
import type { Catalogue, MessageDefinition, RpcDefinition } from './registry';

/** Plain JSON value of a generated document. */
export type JsonObject = { [key: string]: unknown };

/** An AsyncAPI 3.0.0 document as a plain, JSON-serialisable object. */
export interface AsyncApiDocument extends JsonObject {
  readonly asyncapi: '3.0.0';
  readonly info: JsonObject;
  readonly channels: Record<string, JsonObject>;
  readonly operations: Record<string, JsonObject>;
  readonly components: JsonObject;
}

/** What each stream holds and keeps (DESIGN §4); a `Record` so a new stream key cannot go undocumented. */
export const STREAM_DOCS: Readonly<
  Record<StreamKey, { readonly content: string; readonly retention: string }>
> = {
  events: { content: 'domain events, the source of truth', retention: 'unlimited' },
  decisions: {
    content: 'decision records (gate verdicts, reservations, evaluations)',
    retention: 'configurable, default 30 d',
  },
  ingest: {
    content: 'facts reported by engines (kpi, outcome, heartbeat, command, incident, sandbox)',
    retention: 'configurable, default 30 d',
  },
  dlq: {
    content: 'messages parked after their last delivery attempt or a permanent error, with that error',
    retention: 'unlimited (kept until an operator handles them)',
  },
};

const STREAM_OF_KIND: Readonly<Record<MessageDefinition['kind'], StreamKey>> = {
  event: 'events',
  decision: 'decisions',
  ingest: 'ingest',
};

const DOCUMENT_VERSION = '0.1.0';
/** `{engineId}` in a subject token; one token may hold several (`{engineId}:{strategyId}`). */
const PARAMETER = /\{([A-Za-z0-9_-]+)\}/g;

/**
 * TypeBox schemas carry symbol keys (dropped by the JSON round trip) and may carry `$id`s; the
 * same schema inlined in several messages would then declare one `$id` many times, which JSON
 * Schema tooling rejects, so every `$id` goes. Keys under `properties` are field names, not keywords.
 */
export function toJsonSchema(schema: TSchema): JsonObject {
  return stripIds(JSON.parse(JSON.stringify(schema)) as unknown) as JsonObject;
}

function stripIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripIds);
  if (value === null || typeof value !== 'object') return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === '$id') continue;
    out[key] =
      (key === 'properties' || key === 'patternProperties' || key === '$defs' || key === 'definitions') &&
      child !== null &&
      typeof child === 'object'
        ? Object.fromEntries(Object.entries(child).map(([name, s]) => [name, stripIds(s)]))
        : stripIds(child);
  }
  return out;
}

function parametersOf(address: string): string[] {
  return [...address.matchAll(PARAMETER)].map((m) => m[1] as string);
}

/** `bifrost.evt.system.service.{service}` → `evt.system.service`: readable, and legal as a map key. */
function channelIdOf(canonicalAddress: string): string {
  return canonicalAddress
    .split('.')
    .filter((t, i) => !(i === 0 && t === 'bifrost') && !t.includes('{'))
    .join('.');
}

export function messageIdOf(def: Pick<MessageDefinition, 'type' | 'version'>): string {
  return `${def.type}.v${def.version}`;
}

const ref = (pointer: string): JsonObject => ({ $ref: pointer });

/**
 * Builds the AsyncAPI 3.0.0 description of everything in `catalogue`: one channel per subject
 * pattern (events sharing an aggregate subject share a channel), one message per `type@version`
 * with the full envelope as payload, and a request/reply operation per rpc definition.
 * Addresses are qualified with `naming`'s namespace (canonical names by default).
 */
export function buildAsyncApi(catalogue: Catalogue, naming: Naming = createNaming()): AsyncApiDocument {
  const channels: Record<string, JsonObject> = {};
  const operations: Record<string, JsonObject> = {};
  const messages: Record<string, JsonObject> = {};

  const definitions = [...catalogue.definitions].sort(
    (a, b) => a.subject.localeCompare(b.subject) || a.type.localeCompare(b.type) || a.version - b.version,
  );

  for (const def of definitions) {
    const channelId = channelIdOf(def.subject);
    const address = naming.qualify(def.subject);
    const messageId = messageIdOf(def);
    messages[messageId] = eventMessage(def);

    const existing = channels[channelId];
    if (existing && existing['address'] !== address) {
      throw new Error(
        `subjects "${String(existing['address'])}" and "${address}" map to one channel id "${channelId}"`,
      );
    }
    const channel = existing ?? {
      address,
      description: `Stored on ${naming.streams[STREAM_OF_KIND[def.kind]].name}.`,
      parameters: Object.fromEntries(
        parametersOf(def.subject).map((p) => [p, { description: `subject token: ${p}` }]),
      ),
      messages: {},
    };
    (channel['messages'] as JsonObject)[messageId] = ref(`#/components/messages/${messageId}`);
    channels[channelId] = channel;

    const operationId = `publish.${channelId}`;
    const operation = operations[operationId] ?? {
      action: 'send',
      channel: ref(`#/channels/${channelId}`),
      summary: `Messages appended to ${address}`,
      messages: [],
      'x-producers': [],
    };
    (operation['messages'] as JsonObject[]).push(ref(`#/channels/${channelId}/messages/${messageId}`));
    const producers = operation['x-producers'] as string[];
    if (!producers.includes(def.producer)) producers.push(def.producer);
    operations[operationId] = operation;
  }

  const rpcs = [...catalogue.rpcs].sort((a, b) =>
    `${a.service}.${a.operation}`.localeCompare(`${b.service}.${b.operation}`),
  );
  for (const rpc of rpcs) addRpc(rpc, naming, channels, operations, messages);

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Bifrost messaging contract',
      version: DOCUMENT_VERSION,
      description: describeStreams(naming),
    },
    defaultContentType: 'application/json',
    servers: {
      nats: {
        host: 'localhost:4222',
        protocol: 'nats',
        description:
          'NATS JetStream (set NATS_URL); subjects below are prefixed by BIFROST_NAMESPACE when set.',
      },
    },
    channels,
    operations,
    components: {
      messages,
      schemas: { NatsHeaders: natsHeaders() },
    },
    'x-streams': STREAM_KEYS.map((key) => ({
      key,
      name: naming.streams[key].name,
      subjects: naming.streams[key].subjects,
      ...STREAM_DOCS[key],
    })),
  };
}

function eventMessage(def: MessageDefinition): JsonObject {
  return {
    name: def.type,
    title: `${def.type} v${def.version}`,
    summary: def.description,
    contentType: 'application/json',
    headers: ref('#/components/schemas/NatsHeaders'),
    payload: toJsonSchema(envelopeOf(def.data)),
    'x-kind': def.kind,
    'x-version': def.version,
    'x-producer': def.producer,
    'x-consumers': [...def.consumers],
  };
}

function addRpc(
  rpc: RpcDefinition,
  naming: Naming,
  channels: Record<string, JsonObject>,
  operations: Record<string, JsonObject>,
  messages: Record<string, JsonObject>,
): void {
  const address = naming.rpcSubject(rpc.service, rpc.operation);
  const id = `rpc.${rpc.service}.${rpc.operation}`;
  const requestId = `${id}.request`;
  const replyId = `${id}.reply`;
  messages[requestId] = {
    name: requestId,
    summary: rpc.description,
    contentType: 'application/json',
    headers: ref('#/components/schemas/NatsHeaders'),
    payload: toJsonSchema(rpc.request),
  };
  messages[replyId] = {
    name: replyId,
    summary: `Reply to ${address}: { ok: true, data } or { ok: false, error }.`,
    contentType: 'application/json',
    payload: toJsonSchema(replyOf(rpc.response)),
  };
  channels[id] = {
    address,
    description: rpc.description,
    messages: { request: ref(`#/components/messages/${requestId}`) },
  };
  // A NATS reply goes to the requester's inbox, which only exists at run time.
  channels[`${id}.reply`] = {
    address: null,
    description: `The requester's reply inbox for ${address}.`,
    messages: { reply: ref(`#/components/messages/${replyId}`) },
  };
  operations[id] = {
    action: 'receive',
    channel: ref(`#/channels/${id}`),
    summary: rpc.description,
    messages: [ref(`#/channels/${id}/messages/request`)],
    bindings: { nats: { queue: rpc.service, bindingVersion: '0.1.0' } },
    reply: {
      channel: ref(`#/channels/${id}.reply`),
      messages: [ref(`#/channels/${id}.reply/messages/reply`)],
    },
  };
}

function natsHeaders(): JsonObject {
  return {
    type: 'object',
    properties: {
      'Nats-Msg-Id': { type: 'string', description: 'Envelope id; JetStream deduplicates on it.' },
      traceparent: { type: 'string', description: 'W3C trace context' },
      tracestate: { type: 'string', description: 'W3C trace context' },
      'content-type': { type: 'string', const: 'application/json' },
    },
  };
}

function describeStreams(naming: Naming): string {
  const rows = STREAM_KEYS.map((key) => {
    const s = naming.streams[key];
    return `| \`${s.name}\` | \`${s.subjects}\` | ${STREAM_DOCS[key].content} | ${STREAM_DOCS[key].retention} |`;
  });
  return [
    'Domain events, decision records and engine facts on NATS JetStream, and request-reply operations on core NATS.',
    'Every message on a stream is an envelope (see each payload); the event type is in the envelope, not in the subject.',
    '',
    '| stream | subjects | content | retention |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A human-readable event catalogue (Markdown) generated from the same definitions as the AsyncAPI document. */
export function renderEventCatalogueMarkdown(catalogue: Catalogue, naming: Naming = createNaming()): string {
  const definitions = [...catalogue.definitions].sort(
    (a, b) => a.type.localeCompare(b.type) || a.version - b.version,
  );
  const rpcs = [...catalogue.rpcs].sort((a, b) =>
    `${a.service}.${a.operation}`.localeCompare(`${b.service}.${b.operation}`),
  );
  const json = (schema: TSchema): string =>
    ['```json', JSON.stringify(toJsonSchema(schema), null, 2), '```'].join('\n');

  const lines = [
    '# Bifrost event catalogue',
    '',
    '<!-- Generated from libs/contracts (asyncapi.spec.ts). Do not edit by hand: change the definitions and run the contracts tests. -->',
    '',
    '## Streams',
    '',
    '| stream | subjects | content | retention |',
    '|---|---|---|---|',
    ...STREAM_KEYS.map((key) => {
      const s = naming.streams[key];
      return `| \`${s.name}\` | \`${s.subjects}\` | ${cell(STREAM_DOCS[key].content)} | ${cell(STREAM_DOCS[key].retention)} |`;
    }),
    '',
    '## Messages',
    '',
    '| type | version | kind | subject | producer | consumers | description |',
    '|---|---|---|---|---|---|---|',
    ...definitions.map(
      (d) =>
        `| \`${d.type}\` | ${d.version} | ${d.kind} | \`${naming.qualify(d.subject)}\` | ${cell(d.producer)} | ${cell(d.consumers.join(', '))} | ${cell(d.description)} |`,
    ),
    '',
    '## Request-reply operations',
    '',
    '| subject | description |',
    '|---|---|',
    ...rpcs.map((r) => `| \`${naming.rpcSubject(r.service, r.operation)}\` | ${cell(r.description)} |`),
    '',
    '## Data schemas',
    '',
    ...definitions.flatMap((d) => [`### ${d.type} v${d.version}`, '', d.description, '', json(d.data), '']),
    '## Request and response schemas',
    '',
    '_Replies are `{ "ok": true, "data": <response> }` or `{ "ok": false, "error": { "code", "message", "details?" } }`._',
    '',
    ...rpcs.flatMap((r) => [
      `### ${naming.rpcSubject(r.service, r.operation)}`,
      '',
      r.description,
      '',
      'Request:',
      '',
      json(r.request),
      '',
      'Response data:',
      '',
      json(r.response),
      '',
    ]),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}
