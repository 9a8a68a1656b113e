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
  /**
   * When the stream stored the original. With `stream` and `streamSequence` it names the message
   * even across a stream deleted and created again, whose sequences start over.
   */
  readonly storedAt: string;
  readonly subject: string;
  readonly deliveryCount: number;
  readonly error: ErrorBody;
  readonly parkedAt: string;
  /** The original payload: UTF-8 text when it decodes, else base64. */
  readonly payload: string;
  readonly payloadEncoding: 'utf-8' | 'base64';
  /**
   * Present when the payload was cut so that the letter fits in one NATS message: the original
   * (`payloadBytes` long) stays at `stream`/`streamSequence` until that stream's retention removes it.
   */
  readonly payloadTruncated?: true;
  readonly payloadBytes?: number;
  readonly headers: Record<string, string[]>;
}

/**
 * Most a letter may take, encoded. A message can be as large as the server's `max_payload` (1 MiB
 * by default) and grows when embedded as JSON text or base64: without a bound its letter could not
 * be published, the park would fail on every attempt and the message would never be settled.
 */
export const MAX_LETTER_BYTES = 512 * 1024;

/** The most characters of an error's message, and of its encoded details, that a letter carries. */
export const MAX_LETTER_ERROR_CHARS = 8 * 1024;

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
  const letter: DeadLetter = {
    service,
    consumer,
    stream: msg.info.stream,
    streamSequence: msg.seq,
    storedAt: new Date(msg.info.timestampNanos / 1e6).toISOString(),
    subject: msg.subject,
    deliveryCount: msg.info.deliveryCount,
    error: letterError(error),
    parkedAt: now.toISOString(),
    payload,
    payloadEncoding,
    headers,
  };
  return withinLimit(letter, msg.data.length);
}

/**
 * The error as its letter says it. An error can outgrow the message it is about (a schema check
 * lists one line per problem, each longer than the property it names: a 0.5 MB message with 50 000
 * unknown properties gave a 2 MB list), and a letter over NATS' max_payload could never be parked:
 * the message would be retried for ever. The message is cut (`… (n more characters)`), details too
 * large are left out; the payload, which keeps the original, is cut by {@link withinLimit}.
 */
function letterError(error: ErrorBody): ErrorBody {
  const { message, details, ...rest } = error;
  const kept =
    details === undefined || encodeJson(details).length > MAX_LETTER_ERROR_CHARS ? {} : { details };
  if (message.length <= MAX_LETTER_ERROR_CHARS) return { ...rest, message, ...kept };
  // Not between the two halves of a surrogate pair.
  const high = message.charCodeAt(MAX_LETTER_ERROR_CHARS - 1);
  const end = high >= 0xd800 && high <= 0xdbff ? MAX_LETTER_ERROR_CHARS - 1 : MAX_LETTER_ERROR_CHARS;
  return { ...rest, message: `${message.slice(0, end)}… (${message.length - end} more characters)`, ...kept };
}

/** Cuts the payload (halving what is kept) until the encoded letter fits {@link MAX_LETTER_BYTES}. */
function withinLimit(letter: DeadLetter, payloadBytes: number): DeadLetter {
  let fitted = letter;
  for (let keep = letter.payload.length; keep > 0 && encodeJson(fitted).length > MAX_LETTER_BYTES; ) {
    keep = Math.floor(keep / 2);
    // base64 is cut on a 4-character boundary, so what is kept still decodes.
    const cut = letter.payloadEncoding === 'base64' ? keep - (keep % 4) : keep;
    fitted = { ...letter, payload: letter.payload.slice(0, cut), payloadTruncated: true, payloadBytes };
  }
  return fitted;
}

/**
 * Parks a message durably; the msg id makes a repeated park of the same message (after a crash, or
 * a batch retried) a no-op, and only that: a message at the same sequence of a stream created again
 * is another one. `duplicate`: the DLQ already held this letter (not to be counted again).
 */
export async function parkDeadLetter(
  js: JetStreamClient,
  naming: Naming,
  letter: DeadLetter,
): Promise<{ duplicate: boolean }> {
  const ack = await js.publish(naming.dlqSubject(letter.service), encodeJson(letter), {
    msgID: `dlq-${letter.stream}-${letter.streamSequence}-${letter.storedAt}-${letter.consumer}`,
  });
  return { duplicate: ack.duplicate };
}
