import { randomUUID } from 'node:crypto';

/** Where {@link stringifyJson} collects the raw texts of one serialization (it is synchronous). */
let collecting: string[] | undefined;
/** A string no value can contain by chance: a control character and a per-process nonce. */
const MARK = `\u0001raw:${randomUUID()}:`;
const MARKED = new RegExp(`"${JSON.stringify(MARK).slice(1, -1).replace(/\\/g, '\\\\')}(\\d+)"`, 'g');

/** What a raw text serializes to: its marker inside {@link stringifyJson}, else its parsed value. */
function rawValue(text: string): unknown {
  if (collecting === undefined) return JSON.parse(text);
  collecting.push(text);
  return `${MARK}${collecting.length - 1}`;
}

/**
 * JSON text that goes into a reply as it is: a document Postgres already holds as JSON (a
 * verdict, a request) is not parsed only to be serialized again. Serialized by any other
 * means it is parsed, so it is always the same value.
 */
export class RawJson {
  constructor(readonly text: string) {}

  toJSON(): unknown {
    return rawValue(this.text);
  }
}

/** `JSON.stringify` that writes every {@link RawJson} inside `value` as its text. */
export function stringifyJson(value: unknown): string {
  collecting = [];
  let json: string;
  let raw: string[];
  try {
    json = JSON.stringify(value);
  } finally {
    raw = collecting;
    collecting = undefined;
  }
  return raw.length === 0
    ? json
    : json.replace(MARKED, (_marked, index: string) => raw[Number(index)] as string);
}
