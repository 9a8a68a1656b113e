import { createInbox, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import type { PubAck } from '@nats-io/jetstream';
import { decodeJson } from './envelope-codec';

/** What the server answered to one JetStream publish. */
export type PublishOutcome =
  | { readonly ok: true; readonly ack: PubAck }
  /** `errCode` is JetStream's (e.g. 10071, wrong last sequence); absent for transport failures. */
  | { readonly ok: false; readonly errCode?: number; readonly message: string };

interface Pending {
  readonly deadline: number;
  readonly settle: (outcome: PublishOutcome) => void;
}

const SWEEP_MS = 100;

/**
 * JetStream publishes with their acks multiplexed on one wildcard inbox: a publish is a plain
 * PUB with a reply subject `<inbox>.<token>`, and the ack (or the server's 503 "no responders"
 * status when no stream takes the subject) resolves it. nats.js's `js.publish` makes a full
 * request per publish instead (a request object, its timer, and an Error allocated on every
 * completion); measured here at ~3× the CPU per publish. Deadlines are swept by one timer.
 */
export class PublishAcks {
  private readonly inbox = createInbox();
  private readonly pending = new Map<string, Pending>();
  private next = 0;
  private sweeper?: ReturnType<typeof setInterval>;

  constructor(private readonly nc: NatsConnection) {
    nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => {
        if (error) return;
        const entry = this.take(msg.subject.slice(this.inbox.length + 1));
        entry?.settle(outcomeOf(msg.data, msg.headers));
      },
    });
    void nc.closed().then(() => this.failAll('the NATS connection closed'));
  }

  publish(subject: string, data: Uint8Array, headers: MsgHdrs, timeoutMs: number): Promise<PublishOutcome> {
    if (this.nc.isClosed()) return Promise.resolve({ ok: false, message: 'the NATS connection is closed' });
    const token = (this.next++).toString(36);
    return new Promise<PublishOutcome>((settle) => {
      this.pending.set(token, { deadline: Date.now() + timeoutMs, settle });
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${token}`, headers });
      } catch (error) {
        // Refused before it was sent (the connection draining, a payload over max_payload): an
        // outcome like any other failed publish, and no waiter left behind until its deadline.
        this.take(token)?.settle({ ok: false, message: `not sent: ${(error as Error).message}` });
      }
    });
  }

  private take(token: string): Pending | undefined {
    const entry = this.pending.get(token);
    if (!entry) return undefined;
    this.pending.delete(token);
    if (this.pending.size === 0) this.stopSweeping();
    return entry;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [token, entry] of this.pending) {
      if (entry.deadline <= now)
        this.take(token)?.settle({ ok: false, message: 'timed out waiting for the ack' });
    }
  }

  private failAll(message: string): void {
    for (const token of [...this.pending.keys()]) this.take(token)?.settle({ ok: false, message });
  }

  private stopSweeping(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

function outcomeOf(data: Uint8Array, headers: MsgHdrs | undefined): PublishOutcome {
  if (headers?.code === 503) return { ok: false, message: 'no stream takes this subject (no responders)' };
  if (data.length === 0) return { ok: false, message: `empty ack (status ${headers?.code ?? 'none'})` };
  let body: {
    stream?: string;
    seq?: number;
    duplicate?: boolean;
    domain?: string;
    error?: { err_code?: number; description?: string };
  };
  try {
    body = decodeJson(data) as typeof body;
  } catch {
    return { ok: false, message: 'unreadable ack' };
  }
  if (body.error) {
    return {
      ok: false,
      ...(body.error.err_code !== undefined ? { errCode: body.error.err_code } : {}),
      message: body.error.description ?? 'JetStream refused the publish',
    };
  }
  if (typeof body.stream !== 'string' || typeof body.seq !== 'number') {
    return { ok: false, message: 'malformed ack' };
  }
  return {
    ok: true,
    ack: {
      stream: body.stream,
      seq: body.seq,
      duplicate: body.duplicate === true,
      ...(body.domain ? { domain: body.domain } : {}),
    } as PubAck,
  };
}
