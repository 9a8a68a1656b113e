import type { TSchema } from '@sinclair/typebox';
import { compile } from './ajv';
import * as contracts from './index';

/** Free text a command must fill with something: an audit trail of "   " explains nothing. */
const EXPLAINING_FIELDS = ['reason', 'evidence'];

/** Every `…Command` schema's explaining fields, as [command, field, its schema]. */
const explainingFields = Object.entries(contracts).flatMap(([name, value]) => {
  const properties = (value as { properties?: Record<string, TSchema> } | null)?.properties;
  if (!name.endsWith('Command') || typeof properties !== 'object') return [];
  return EXPLAINING_FIELDS.filter((field) => properties[field] !== undefined).map(
    (field) => [name, field, properties[field] as TSchema] as const,
  );
});

describe('Command schemas', () => {
  it('should find the explaining fields of the commands', () => {
    expect(explainingFields.map(([name, field]) => `${name}.${field}`)).toEqual(
      expect.arrayContaining([
        'UpsertHeimdallPolicyCommand.reason',
        'UpsertPolicyCommand.reason',
        'RecordAttestationCommand.evidence',
      ]),
    );
  });

  it.each(explainingFields)(
    'should refuse %s.%s made only of spaces, and take text',
    (_name, _field, schema) => {
      const check = compile(schema);
      expect(check('   ').ok).toBe(false);
      expect(check('\t\n').ok).toBe(false);
      expect(check(' rolled back after the incident ').ok).toBe(true);
    },
  );
});
