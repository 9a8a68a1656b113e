import { type Envelope } from '@bifrost/contracts';
import { type EntityManager } from 'typeorm';
import { type Statements } from '../projector/statements';

/** Which stream a message came from; a read-model table is fed by one stream only (see docs). */
export type ProjectedStream = 'events' | 'decisions';

/** A valid, catalogued message on its way into the read models. */
export interface ProjectedMessage {
  readonly envelope: Envelope;
  /** The canonical subject (namespace removed), e.g. `bifrost.evt.gate.strategy.eng-1:s-1`. */
  readonly subject: string;
  readonly stream: ProjectedStream;
  readonly streamSeq: number;
}

/**
 * One read model: the message types it handles, the tables it owns, and how it writes them.
 * `apply` receives, in stream order, every message of the batch whose type it handles, inside the
 * batch transaction; it writes set-wise through `manager`, or adds per-message statements to
 * `statements`, which run after every projection's `apply`, in the order added. It must be
 * deterministic in its input (no clock), so a rebuild reaches the same rows. Adding a read model =
 * one projection file + a migration + a line in the registry.
 */
export interface Projection {
  readonly name: string;
  readonly handles: readonly string[];
  /** Emptied by a rebuild, children before parents. */
  readonly tables: readonly string[];
  readonly entities: readonly (new () => object)[];
  apply(manager: EntityManager, messages: readonly ProjectedMessage[], statements: Statements): Promise<void>;
}

/** Adds the statements that apply one message (see {@link Statements}: nothing is read back). */
export type MessageHandler = (sql: Statements, message: ProjectedMessage) => void;

/** For read models that write per message: dispatch on the envelope type, one handler each. */
export function perMessage(handlers: Readonly<Record<string, MessageHandler>>) {
  return {
    handles: Object.keys(handlers),
    apply(
      _manager: EntityManager,
      messages: readonly ProjectedMessage[],
      statements: Statements,
    ): Promise<void> {
      for (const message of messages) handlers[message.envelope.type]?.(statements, message);
      return Promise.resolve();
    },
  };
}

export type BatchHandler = (manager: EntityManager, messages: readonly ProjectedMessage[]) => Promise<void>;

/**
 * For read models with hot message types: each `batched` handler gets all the batch's messages of
 * its types at once (stream order; types sharing a handler get their messages together) and writes
 * them set-wise; the other types' statements run one by one in stream order, after them. Only for
 * types whose writes commute with every other handler's (disjoint tables or columns), so applying
 * them out of stream order reaches the same rows.
 */
export function perBatch(
  batched: Readonly<Record<string, BatchHandler>>,
  handlers: Readonly<Record<string, MessageHandler>> = {},
) {
  const single = perMessage(handlers);
  return {
    handles: [...Object.keys(batched), ...single.handles],
    async apply(
      manager: EntityManager,
      messages: readonly ProjectedMessage[],
      statements: Statements,
    ): Promise<void> {
      for (const handler of new Set(Object.values(batched))) {
        const mine = messages.filter((message) => batched[message.envelope.type] === handler);
        if (mine.length > 0) await handler(manager, mine);
      }
      await single.apply(manager, messages, statements);
    },
  };
}

/** The last subject token: the aggregate id (`eng-1:s-1` for a strategy). */
export function aggregateIdOf(message: ProjectedMessage): string {
  return message.subject.slice(message.subject.lastIndexOf('.') + 1);
}

/** Engine and strategy from a strategy subject `…strategy.<engineId>:<strategyId>`. */
export function strategyKeyOf(message: ProjectedMessage): { engineId: string; strategyId: string } {
  const [engineId = '', strategyId = ''] = aggregateIdOf(message).split(':');
  return { engineId, strategyId };
}

/** Event data as a plain record; its schema was validated against the catalogue before. */
export function dataOf<T>(message: ProjectedMessage): T {
  return message.envelope.data as T;
}
