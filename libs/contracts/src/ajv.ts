import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { TSchema, Static } from '@sinclair/typebox';
import { isRealInstant } from './instant';
import { patternMessage } from './schema';

const FORMATS = ['date', 'date-time', 'uuid', 'uri', 'email'] as const;
// strictNumbers: NaN and Infinity (`1e400` parses to Infinity) are not numbers JSON can carry.
const options = { strict: false, strictNumbers: true, coerceTypes: false, discriminator: true } as const;

/**
 * Two Ajv instances for the process, every schema compiled once per instance and cached by
 * identity. Values are checked with the first-error validator (about half the cost on large
 * unions); only a value that fails is checked again with the all-errors one, so an error reply
 * still lists every problem. Schemas are compiled in their {@link forAjv} form.
 */
/** `Timestamp`'s format: an RFC 3339 UTC time with milliseconds of a day that exists. */
const withInstants = (ajv: Ajv) => ajv.addFormat('instant', { type: 'string', validate: isRealInstant });
const fast = withInstants(addFormats(new Ajv({ ...options, allErrors: false }), [...FORMATS]));
const thorough = withInstants(addFormats(new Ajv({ ...options, allErrors: true }), [...FORMATS]));
const compiled = new WeakMap<
  TSchema,
  { schema: object; fast: ValidateFunction; thorough?: ValidateFunction }
>();

export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: SchemaIssue[] };

export function compile<S extends TSchema>(schema: S): (value: unknown) => ValidationResult<Static<S>> {
  let validators = compiled.get(schema);
  if (!validators) {
    const tuned = forAjv(schema) as object;
    validators = { schema: tuned, fast: fast.compile(tuned) };
    compiled.set(schema, validators);
  }
  const entry = validators;
  return (value) => {
    if (entry.fast(value)) return { ok: true, value: value as Static<S> };
    entry.thorough ??= thorough.compile(entry.schema);
    entry.thorough(value);
    return {
      ok: false,
      issues: (entry.thorough.errors ?? entry.fast.errors ?? []).map((e) => ({
        path: e.instancePath === '' ? '/' : e.instancePath,
        message: messageOf(e),
      })),
    };
  };
}

/** Ajv's message, naming what it leaves in `params`: the property not allowed, the values allowed. */
function messageOf(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `must NOT have the property "${String(params['additionalProperty'])}"`;
    case 'enum':
      return `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(params['allowedValue'])}`;
    case 'pattern':
      return patternMessage(String(params['pattern']));
    case 'format':
      return params['format'] === 'instant'
        ? 'must be a time that exists, in UTC with milliseconds (2026-11-21T20:42:55.123Z)'
        : (error.message ?? 'invalid');
    default:
      return error.message ?? 'invalid';
  }
}

export function formatIssues(issues: readonly SchemaIssue[]): string {
  return issues.map((i) => `${i.path} ${i.message}`).join('; ');
}

type Json = { [key: string]: unknown };

/** Keywords whose values are data, not schemas: left as they are. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples']);

/**
 * The same schema, in the form Ajv checks fastest. TypeBox writes every union as `anyOf`, and Ajv
 * tries the branches in turn, building an error object for each one that fails: a ledger entry of
 * the ninth kind cost eight errors, and one batch of entries ~8× the cost of checking the branch
 * alone. So a union of literals becomes one `enum`, and a union of objects told apart by a
 * literal property (`type`, `kind`) a `oneOf` with Ajv's `discriminator`, which goes straight to
 * the matching branch, and a union of bare types (a check's `value`: number, string, boolean or
 * null) one `type` list, checked with one `typeof`. All accept exactly what the `anyOf` accepts.
 * `$id`s go: nothing refers to them, and a schema inlined in another would declare its `$id` twice.
 */
export function forAjv(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forAjv);
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$id') continue;
    copy[key] = DATA_KEYWORDS.has(key) ? value : forAjv(value);
  }
  // An instant's format implies its pattern (kept in the schema for the docs): one check, one message.
  if (copy['format'] === 'instant') delete copy['pattern'];
  const branches = copy['anyOf'];
  if (!Array.isArray(branches) || branches.length < 2) return copy;
  const { anyOf: _anyOf, ...rest } = copy;
  const literals = literalValues(branches as Json[]);
  if (literals) return { ...rest, enum: literals };
  const types = bareTypes(branches as Json[]);
  if (types && !('type' in rest)) return { ...rest, type: types };
  const tag = discriminatingTag(branches as Json[]);
  if (tag)
    return {
      ...rest,
      type: 'object',
      required: [tag],
      discriminator: { propertyName: tag },
      oneOf: branches,
    };
  return copy;
}

/** The values of a union whose every branch is a bare `const` (a TypeBox literal). */
function literalValues(branches: Json[]): unknown[] | undefined {
  const bare = branches.every(
    (b) => 'const' in b && Object.keys(b).every((k) => k === 'const' || k === 'type'),
  );
  return bare ? branches.map((b) => b['const']) : undefined;
}

/** The types of a union whose every branch is a bare `type` (`Type.Union([Type.Number(), Type.Null()])`). */
function bareTypes(branches: Json[]): string[] | undefined {
  const bare = branches.every((b) => typeof b['type'] === 'string' && Object.keys(b).length === 1);
  return bare ? branches.map((b) => b['type'] as string) : undefined;
}

/** A property every branch requires as a string literal of its own; Ajv's discriminator needs one. */
function discriminatingTag(branches: Json[]): string | undefined {
  const literalOf = (branch: Json, tag: string): unknown => {
    const properties = branch['properties'] as Record<string, Json> | undefined;
    const required = branch['required'];
    if (branch['type'] !== 'object' || !Array.isArray(required) || !required.includes(tag)) return undefined;
    const property = properties?.[tag];
    return typeof property?.['const'] === 'string' ? property['const'] : undefined;
  };
  const first = branches[0]?.['properties'];
  if (!first || typeof first !== 'object') return undefined;
  return Object.keys(first).find((tag) => {
    const values = branches.map((b) => literalOf(b, tag));
    return values.every((v) => v !== undefined) && new Set(values).size === branches.length;
  });
}
