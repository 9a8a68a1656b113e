import { Kind, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';

/** One thing wrong with the environment: the variable and what it must be. */
export interface ConfigProblem {
  readonly variable: string;
  readonly message: string;
}

/** Thrown by {@link loadConfig}; `message` lists every problem on its own line as `NAME: must …`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      [
        `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):`,
        ...problems.map((p) => `${p.variable}: ${p.message}`),
      ].join('\n'),
    );
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the variables named by `schema` from `env`, applies defaults, converts strings to the
 * declared numbers/integers/booleans, validates, and returns a deeply frozen object. Variables not
 * in the schema are ignored; an empty value counts as unset. Throws {@link ConfigError} listing
 * every problem at once. Services read `process.env` only through it; the command-line tools
 * (`apps/projector/src/cli`) read their few variables at their edge, an empty value unset there too.
 */
export function loadConfig<S extends TObject>(schema: S, env: Env = process.env): Readonly<Static<S>> {
  const raw: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties)) {
    const value = env[key];
    if (value === undefined || value === '') continue;
    raw[key] = convert(property, value);
  }
  const value: unknown = Value.Default(schema, raw);
  const problems = collectProblems(schema, value);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(value as Static<S>);
}

// Value.Convert truncates ("3.5" → 3, "1e3" → 1); a typo must fail validation instead, so only
// strings that are exactly a number reach it.
const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function convert(schema: TSchema, value: string): unknown {
  if (schema[Kind] === 'Integer' && !INTEGER.test(value)) return value;
  if (schema[Kind] === 'Number' && !NUMBER.test(value)) return value;
  return Value.Convert(schema, value);
}

function collectProblems(schema: TObject, value: unknown): ConfigProblem[] {
  const byVariable = new Map<string, string[]>();
  for (const error of Value.Errors(schema, value)) {
    const variable = error.path.replace(/^\//, '').replace(/\//g, '.') || '(root)';
    const messages = byVariable.get(variable) ?? [];
    // A missing variable also fails its type check; "is required" says it all.
    if (messages.includes('is required')) continue;
    const message = describe(error);
    if (!messages.includes(message)) messages.push(message);
    byVariable.set(variable, messages);
  }
  return [...byVariable].flatMap(([variable, messages]) =>
    messages.map((message) => ({ variable, message })),
  );
}

function describe(error: ValueError): string {
  const s = error.schema;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.Integer:
    case ValueErrorType.Number:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.IntegerExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMaximum:
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.NumberExclusiveMaximum:
      return `must be ${numericRange(s)}`;
    case ValueErrorType.IntegerMultipleOf:
    case ValueErrorType.NumberMultipleOf:
      return `must be a multiple of ${String(s['multipleOf'])}`;
    case ValueErrorType.Boolean:
      return 'must be boolean (true, false, 1 or 0)';
    case ValueErrorType.String:
      return 'must be string';
    case ValueErrorType.StringMinLength:
      return `must be at least ${String(s['minLength'])} characters long`;
    case ValueErrorType.StringMaxLength:
      return `must be at most ${String(s['maxLength'])} characters long`;
    case ValueErrorType.StringPattern:
      return `must match ${String(s['pattern'])}`;
    case ValueErrorType.StringFormat:
      return `must be a valid ${String(s['format'])}`;
    case ValueErrorType.Literal:
      return `must be ${JSON.stringify(s['const'])}`;
    case ValueErrorType.Union: {
      const literals = literalsOf(s);
      return literals
        ? `must be one of ${literals.join(', ')}`
        : error.message.replace(/^Expected/, 'must be');
    }
    default:
      return error.message.replace(/^Expected/, 'must be');
  }
}

function numericRange(s: TSchema): string {
  const bounds: string[] = [];
  if (typeof s['minimum'] === 'number') bounds.push(`>= ${s['minimum']}`);
  if (typeof s['exclusiveMinimum'] === 'number') bounds.push(`> ${s['exclusiveMinimum']}`);
  if (typeof s['maximum'] === 'number') bounds.push(`<= ${s['maximum']}`);
  if (typeof s['exclusiveMaximum'] === 'number') bounds.push(`< ${s['exclusiveMaximum']}`);
  const type = s[Kind] === 'Integer' ? 'integer' : 'number';
  return [type, bounds.join(' and ')].filter(Boolean).join(' ');
}

function literalsOf(s: TSchema): string[] | undefined {
  const variants: unknown = s['anyOf'];
  if (!Array.isArray(variants)) return undefined;
  const literals: string[] = [];
  for (const variant of variants as TSchema[]) {
    if (variant[Kind] !== 'Literal') return undefined;
    literals.push(String(variant['const']));
  }
  return literals;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const nested of Object.values(value)) deepFreeze(nested);
  }
  return value;
}
