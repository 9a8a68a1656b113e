import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { TSchema, Static } from '@sinclair/typebox';

/** One Ajv instance for the process; every schema is compiled once and cached by identity. */
const ajv = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: false }), [
  'date-time',
  'uuid',
  'uri',
  'email',
]);
const compiled = new WeakMap<TSchema, ValidateFunction>();

export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: SchemaIssue[] };

export function compile<S extends TSchema>(schema: S): (value: unknown) => ValidationResult<Static<S>> {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  const fn = validate;
  return (value) =>
    fn(value)
      ? { ok: true, value: value as Static<S> }
      : {
          ok: false,
          issues: (fn.errors ?? []).map((e) => ({
            path: e.instancePath === '' ? '/' : e.instancePath,
            message: e.message ?? 'invalid',
          })),
        };
}

export function formatIssues(issues: readonly SchemaIssue[]): string {
  return issues.map((i) => `${i.path} ${i.message}`).join('; ');
}
