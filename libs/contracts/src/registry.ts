import { type Static, type TSchema } from '@sinclair/typebox';
import { compile, formatIssues, type SchemaIssue } from './ajv';
import type { Envelope } from './envelope';

/** A domain event, decision record or ingest fact: its type, schema version and data schema. */
export interface MessageDefinition<S extends TSchema = TSchema> {
  /** `<context>.<PastTenseName>` */
  readonly type: string;
  readonly version: number;
  readonly kind: 'event' | 'decision' | 'ingest';
  readonly data: S;
  /** Producing service. */
  readonly producer: string;
  /** Services (or the projector) that consume it. */
  readonly consumers: readonly string[];
  /** Canonical subject pattern it is published on, e.g. `bifrost.evt.gate.strategy.{strategyId}`. */
  readonly subject: string;
  readonly description: string;
}

export function defineMessage<S extends TSchema>(definition: MessageDefinition<S>): MessageDefinition<S> {
  return definition;
}

export type DataOf<M> = M extends MessageDefinition<infer S> ? Static<S> : never;

/** Request-reply operation on `bifrost.rpc.<service>.<operation>`. */
export interface RpcDefinition<Req extends TSchema = TSchema, Res extends TSchema = TSchema> {
  readonly service: string;
  readonly operation: string;
  readonly request: Req;
  readonly response: Res;
  readonly description: string;
}

export function defineRpc<Req extends TSchema, Res extends TSchema>(
  definition: RpcDefinition<Req, Res>,
): RpcDefinition<Req, Res> {
  return definition;
}

export type CatalogueCheck =
  | { ok: true }
  | { ok: false; code: 'UNKNOWN_TYPE' | 'INVALID_DATA'; message: string; issues?: SchemaIssue[] };

/** All message and rpc definitions, keyed by `type@version`; data validators compiled once. */
export class Catalogue {
  private readonly messages = new Map<
    string,
    {
      def: MessageDefinition;
      validate: (v: unknown) => { ok: boolean } & ({ ok: true } | { ok: false; issues: SchemaIssue[] });
    }
  >();

  constructor(
    messages: readonly MessageDefinition[],
    readonly rpcs: readonly RpcDefinition[],
  ) {
    for (const def of messages) {
      const key = `${def.type}@${def.version}`;
      if (this.messages.has(key)) throw new Error(`duplicate message definition ${key}`);
      this.messages.set(key, { def, validate: compile(def.data) });
    }
  }

  get definitions(): MessageDefinition[] {
    return [...this.messages.values()].map((m) => m.def);
  }

  find(type: string, version: number): MessageDefinition | undefined {
    return this.messages.get(`${type}@${version}`)?.def;
  }

  /** Checks that an (already envelope-valid) message is a known type and its data matches the schema. */
  check(envelope: Pick<Envelope, 'type' | 'version' | 'data'>): CatalogueCheck {
    const entry = this.messages.get(`${envelope.type}@${envelope.version}`);
    if (!entry)
      return {
        ok: false,
        code: 'UNKNOWN_TYPE',
        message: `unknown message type ${envelope.type} v${envelope.version}`,
      };
    const result = entry.validate(envelope.data);
    return result.ok
      ? { ok: true }
      : {
          ok: false,
          code: 'INVALID_DATA',
          message: `${envelope.type} v${envelope.version}: ${formatIssues(result.issues)}`,
          issues: result.issues,
        };
  }
}
