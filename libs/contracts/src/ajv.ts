import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { TSchema, Static } from '@sinclair/typebox';

const FORMATS = ['date-time', 'uuid', 'uri', 'email'] as const;

/**
 * Two Ajv instances for the process, every schema compiled once per instance and cached by
 * identity. Values are checked with the first-error validator (about half the cost on large
 * unions); only a value that fails is checked again with the all-errors one, so an error reply
 * still lists every problem.
 */
const fast = addFormats(new Ajv({ allErrors: false, strict: false, coerceTypes: false }), [...FORMATS]);
const thorough = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: false }), [...FORMATS]);
const compiled = new WeakMap<TSchema, { fast: ValidateFunction; thorough?: ValidateFunction }>();

export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: SchemaIssue[] };

export function compile<S extends TSchema>(schema: S): (value: unknown) => ValidationResult<Static<S>> {
  let validators = compiled.get(schema);
  if (!validators) {
    validators = { fast: fast.compile(schema) };
    compiled.set(schema, validators);
  }
  const entry = validators;
  return (value) => {
    if (entry.fast(value)) return { ok: true, value: value as Static<S> };
    entry.thorough ??= thorough.compile(schema);
    entry.thorough(value);
    return {
      ok: false,
      issues: (entry.thorough.errors ?? entry.fast.errors ?? []).map((e) => ({
        path: e.instancePath === '' ? '/' : e.instancePath,
        message: e.message ?? 'invalid',
      })),
    };
  };
}

export function formatIssues(issues: readonly SchemaIssue[]): string {
  return issues.map((i) => `${i.path} ${i.message}`).join('; ');
}
