import { parseArgs } from 'node:util';

/**
 * `--database-url` (or DATABASE_URL) and `--schema`, shared by the projector's commands, and the
 * other options given (`--expect` of bifrost-audit verify).
 */
export function databaseArgs(argv: readonly string[]): {
  command?: string;
  databaseUrl?: string;
  schema?: string;
  expect?: string;
} {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { 'database-url': { type: 'string' }, schema: { type: 'string' }, expect: { type: 'string' } },
    allowPositionals: true,
  });
  // Read here, at the command line's edge, like a service reads its config once at boot.
  const databaseUrl = values['database-url'] ?? process.env['DATABASE_URL'];
  return {
    ...(positionals[0] ? { command: positionals[0] } : {}),
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(values.schema ? { schema: values.schema } : {}),
    ...(values.expect ? { expect: values.expect } : {}),
  };
}
