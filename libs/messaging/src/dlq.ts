import type { JetStreamClient } from '@nats-io/jetstream';
import type { JsMsg } from '@nats-io/jetstream';
import type { Naming } from '@bifrost/contracts';
import type { ErrorBody } from '@bifrost/contracts';
import { encodeJson } from './envelope-codec';

/** What a parked message looks like on `bifrost.dlq.<service>` (stream BIFROST_DLQ). */
export interface DeadLetter {
  readonly service: string;
  readonly consumer: string;
  readonly stream: string;
  readonly streamSequence: number;
  readonly subject: string;
  readonly deliveryCount: number;
  readonly error: ErrorBody;
  readonly parkedAt: string;
  /** The original payload: UTF-8 text when it decodes, else base64. */
  readonly payload: string;
  readonly payloadEncoding: 'utf-8' | 'base64';
  readonly headers: Record<string, string[]>;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function deadLetterOf(
  msg: JsMsg,
  service: string,
  consumer: string,
  error: ErrorBody,
  now = new Date(),
): DeadLetter {
  let payload: string;
  let payloadEncoding: DeadLetter['payloadEncoding'] = 'utf-8';
  try {
    payload = strictUtf8.decode(msg.data);
  } catch {
    payload = Buffer.from(msg.data).toString('base64');
    payloadEncoding = 'base64';
  }
  const headers: Record<string, string[]> = {};
  for (const key of msg.headers?.keys() ?? []) headers[key] = msg.headers?.values(key) ?? [];
  return {
    service,
    consumer,
    stream: msg.info.stream,
    streamSequence: msg.seq,
    subject: msg.subject,
    deliveryCount: msg.info.deliveryCount,
    error,
    parkedAt: now.toISOString(),
    payload,
    payloadEncoding,
    headers,
  };
}

/** Parks a message durably; the msg id makes a repeated park (after a crash) a no-op. */
export async function parkDeadLetter(js: JetStreamClient, naming: Naming, letter: DeadLetter): Promise<void> {
  await js.publish(naming.dlqSubject(letter.service), encodeJson(letter), {
    msgID: `dlq-${letter.stream}-${letter.streamSequence}-${letter.consumer}`,
  });
}
