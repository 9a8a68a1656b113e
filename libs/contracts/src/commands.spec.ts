import type { TSchema } from '@sinclair/typebox';
import { compile } from './ajv';
import * as contracts from './index';

/**
 * Free text a command must fill with something (an audit trail of "   " explains nothing), and
 * without control characters or bidirectional overrides (see InputText).
 */
const EXPLAINING_FIELDS = ['reason', 'note', 'evidence', 'name', 'source'];

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
        'ResolveBreakerEventCommand.note',
        'UpdateBreakerRuleCommand.name',
        'RegisterBaselineCommand.source',
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

  it.each(explainingFields)(
    'should refuse %s.%s holding an ANSI escape, a carriage return or a bidi override',
    (_name, _field, schema) => {
      const check = compile(schema);
      for (const text of ['\u001b[31mok', 'ok\rfailed', 'ok \u202Edeliaf', 'ok \u2067x\u2069', 'a\u0085b'])
        expect(check(text).ok).toBe(false);
      expect(check('line one\nline two').ok).toBe(true);
    },
  );
});

describe('Command types', () => {
  const rung = compile(contracts.PhaseRung);
  const action = compile(contracts.GateAction);
  const rungWith = (additions: string[]) => ({
    phase: 'L4',
    additions,
    validationDays: 30,
    stabilizationDays: 30,
    requiredApprovals: [],
  });

  it('should be spelled alike in a ladder and a gate check as the agent records them', () => {
    expect(rung(rungWith(['TAG_LEAD', 'offer.send:v2'])).ok).toBe(true);
    expect(action({ kind: 'command.run', intent: 'open', commandType: 'TAG_LEAD' }).ok).toBe(true);
    // A type the agent cannot record could never trip a breaker nor be paused: not whitelistable.
    for (const commandType of ['send offer', '1ST-TYPE', '']) {
      expect(rung(rungWith([commandType])).ok).toBe(false);
      expect(action({ kind: 'command.run', intent: 'open', commandType }).ok).toBe(false);
      expect(compile(contracts.CommandType)(commandType).ok).toBe(false);
    }
  });
});
