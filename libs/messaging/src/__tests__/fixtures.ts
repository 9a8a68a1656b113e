import { Type } from '@sinclair/typebox';
import { Catalogue, defineMessage, type Envelope, type Naming } from '@bifrost/contracts';
import { Messaging } from '../messaging';
import { createEnvelope } from '../envelope-codec';
import { uuidv7 } from '../uuid';

/** A small catalogue of test-only message types, so plumbing tests do not depend on real services. */
export const CounterIncremented = defineMessage({
  type: 'system.CounterIncremented',
  version: 1,
  kind: 'event',
  producer: 'test',
  consumers: [],
  subject: 'bifrost.evt.system.counter.{id}',
  description: 'test event',
  data: Type.Object({ by: Type.Integer() }, { additionalProperties: false }),
});

export const WorkRequested = defineMessage({
  type: 'system.WorkRequested',
  version: 1,
  kind: 'ingest',
  producer: 'test',
  consumers: [],
  subject: 'bifrost.ingest.kpi.{engineId}',
  description: 'test ingest',
  data: Type.Object(
    { n: Type.Integer(), poison: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
});

export const testCatalogue = new Catalogue([CounterIncremented, WorkRequested], []);

export function connectTest(natsUrl: string, namespace: string, service = 'test'): Promise<Messaging> {
  return Messaging.connect({
    url: natsUrl,
    service,
    instanceId: uuidv7().slice(-8),
    namespace,
    catalogue: testCatalogue,
  });
}

export function incremented(naming: Naming, id: string, by = 1): Envelope {
  return createEnvelope({
    type: 'system.CounterIncremented',
    subject: naming.eventSubject('system', 'counter', id),
    source: 'test',
    actor: { kind: 'system', id: 'test' },
    data: { by },
  });
}

export function work(naming: Naming, engineId: string, n: number, poison = false): Envelope {
  return createEnvelope({
    type: 'system.WorkRequested',
    subject: naming.ingestSubject('kpi', engineId),
    source: 'test',
    actor: { kind: 'engine', id: engineId },
    data: poison ? { n, poison } : { n },
  });
}

/** `{"a":[{"a":[…1…]}]}`, `levels` arrays and objects deep, as text (too deep for JSON.stringify to build). */
export function nestedJson(levels: number): string {
  const open = Array.from({ length: levels }, (_, i) => (i % 2 === 0 ? '{"a":' : '[')).join('');
  const close = Array.from({ length: levels }, (_, i) => (i % 2 === 0 ? '}' : ']'))
    .reverse()
    .join('');
  return open + '1' + close;
}

/** How deep a value nests, naively recursive: what a payload nested too deep must never reach. */
export function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}
