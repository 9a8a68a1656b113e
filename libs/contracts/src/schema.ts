import { Type, type TLiteral, type TProperties, type TSchema, type TUnion } from '@sinclair/typebox';

/** A closed object: an unknown property is a mistake worth reporting, in a message or a request. */
export const object = <P extends TProperties>(properties: P) =>
  Type.Object(properties, { additionalProperties: false });

/**
 * A copy of `schema` that takes properties it does not name, at every depth: what a reader needs of a
 * writer that may be newer (a field added to a reply later is ignored, not refused). Same type.
 */
export function tolerant<S extends TSchema>(schema: S): S {
  return JSON.parse(JSON.stringify(schema), (key: string, value: unknown) =>
    key === 'additionalProperties' && value === false ? undefined : value,
  ) as S;
}

/**
 * The names every JavaScript object has (`constructor`, `toString`, `valueOf`, …, Object.prototype's).
 * Ids become keys of records in the services' state; one of these names would find the inherited
 * member where no entry exists (an internal error, or a pause that never takes). So no id may be one.
 */
export const OBJECT_MEMBER_NAMES: readonly string[] = [
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  'toString',
  'valueOf',
];

const MEMBER_NAME_GUARD = `^(?!(?:${OBJECT_MEMBER_NAMES.join('|')})$)`;

/**
 * An id's pattern (anchored, `^…$`) that also refuses {@link OBJECT_MEMBER_NAMES}: every schema of an
 * id that can become a key of a record uses it.
 */
export function idPattern(pattern: string): string {
  if (!pattern.startsWith('^') || !pattern.endsWith('$'))
    throw new Error(`id pattern ${pattern} is not anchored`);
  return `${MEMBER_NAME_GUARD}${pattern.slice(1)}`;
}

/**
 * What human text may not hold: C0 controls but TAB and LF (CR goes too: a bare one rewrites a line on a
 * terminal), DEL, C1 controls, and the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
 * U+2066–U+2069) that make text display in another order than it reads ("Trojan Source"). LF stays:
 * reasons may run over lines, and logs are JSON lines, where it is escaped. The marks U+200E and
 * U+200F stay too: they steer only neutral characters, which mixed-script text needs.
 */
const CONTROL_OR_BIDI = '\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069';

/** {@link InputText}'s pattern: not only spaces, and none of {@link CONTROL_OR_BIDI}. */
export const INPUT_TEXT_PATTERN = `^(?=\\s*\\S)[^${CONTROL_OR_BIDI}]*$`;

/**
 * What a value that fails `pattern` must be, in words: an id's pattern (see {@link idPattern}) as
 * the pattern it was given plus the names it refuses, rather than the whole lookahead; input text's
 * (see {@link InputText}) as the rule it stands for.
 */
export function patternMessage(pattern: string): string {
  if (pattern === INPUT_TEXT_PATTERN)
    return 'must not be blank nor contain control characters (but tab and line feed) or bidirectional overrides';
  if (!pattern.startsWith(MEMBER_NAME_GUARD)) return `must match pattern "${pattern}"`;
  return (
    `must match pattern "^${pattern.slice(MEMBER_NAME_GUARD.length)}" and must not be a name every ` +
    'JavaScript object has (constructor, toString, __proto__, …)'
  );
}

/** An execution token's id (the gate's UUID, or an operator's): a key of the strategy's tokens. */
export const TokenId = Type.String({ minLength: 1, maxLength: 100, pattern: idPattern('^[\\s\\S]+$') });
/** An approval request's id (the id of the decision that opened it): a key of the strategy's approvals. */
export const ApprovalId = Type.String({ minLength: 1, maxLength: 100, pattern: idPattern('^[\\s\\S]+$') });

/** One of a fixed set of strings, typed as their union. */
export const literals = <T extends string>(values: readonly T[]): TUnion<TLiteral<T>[]> =>
  Type.Union(values.map((value) => Type.Literal(value)));

/**
 * The id an engine gives a fact it reports (an outcome, a command, an incident, a sandbox trial):
 * some text, not only spaces, since a repeated id is counted once and `" "` says nothing.
 */
export const FactKey = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });

/** The most code points a reason may hold: what a service composing one must clip it to. */
export const REASON_MAX_LENGTH = 500;

/** Why a person or a service did something, as it is kept in events (never stricter than what was stored). */
export const Reason = Type.String({ minLength: 1, maxLength: REASON_MAX_LENGTH });

/**
 * Free text a person or an engine writes in a command or a request (a reason, a note, evidence, a
 * name): some text, not only spaces (an audit trail of "   " explains nothing), and nothing that
 * could forge a log line or make it read otherwise on a screen ({@link CONTROL_OR_BIDI}). Events
 * keep their looser schemas (e.g. {@link Reason}), so the ones already stored still validate.
 */
export const InputText = (maxLength: number) =>
  Type.String({ minLength: 1, maxLength, pattern: INPUT_TEXT_PATTERN });

/** The reason a command must give. */
export const CommandReason = InputText(REASON_MAX_LENGTH);
