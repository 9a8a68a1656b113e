import { compile } from './ajv';
import { catalogue } from './catalogue';
import { CommandType } from './messages/governance-ingest.messages';
import { BreakerRuleId, GovernanceId, PrincipalId } from './messages/governance.messages';
import { KpiMetric, TripwirePolicyId } from './messages/tripwire.messages';
import { ProbeName } from './messages/canary.messages';
import { ApprovalId, OBJECT_MEMBER_NAMES, TokenId, idPattern } from './schema';
import { EntityId } from './verdict';

describe('Ids', () => {
  const ids = {
    EntityId,
    CommandType,
    GovernanceId,
    BreakerRuleId,
    PrincipalId,
    KpiMetric,
    TripwirePolicyId,
    ProbeName,
    TokenId,
    ApprovalId,
  };

  describe.each(Object.entries(ids))('Given the id schema %s', (_, schema) => {
    const validate = compile(schema);

    it.each(
      OBJECT_MEMBER_NAMES.filter((name) =>
        new RegExp(String(schema.pattern).replace(/^\^\(\?!.*?\$\)/, '^'), 'u').test(name),
      ),
    )(
      'should refuse %p, a name every JavaScript object has (it would find an inherited member as a key)',
      (name) => {
        expect(validate(name).ok).toBe(false);
      },
    );

    it('should still take ids that merely contain or extend such a name', () => {
      for (const id of ['constructor2', 'my-constructor', 'valueOfIt'].filter((id) =>
        new RegExp(String(schema.pattern).replace(/^\^\(\?!.*?\$\)/, '^'), 'u').test(id),
      ))
        expect(validate(id).ok).toBe(true);
    });
  });

  it('should name at least constructor, toString and valueOf', () => {
    expect(OBJECT_MEMBER_NAMES).toEqual(expect.arrayContaining(['constructor', 'toString', 'valueOf']));
    expect([...OBJECT_MEMBER_NAMES].sort()).toEqual(Object.getOwnPropertyNames(Object.prototype).sort());
  });

  it('should say what an id must be in words, not as the whole pattern with the names it refuses', () => {
    const result = compile(EntityId)('toString');

    expect(result).toEqual({
      ok: false,
      issues: [
        {
          path: '/',
          message:
            'must match pattern "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$" and must not be a name every JavaScript ' +
            'object has (constructor, toString, __proto__, …)',
        },
      ],
    });
  });

  it('should refuse an id pattern that is not anchored', () => {
    expect(() => idPattern('[a-z]+')).toThrow('not anchored');
  });
});

describe('Fact ids', () => {
  const facts = {
    'ingest.OutcomeReported': (id: string) => ({
      engineId: 'e1',
      strategyId: 's1',
      outcomeId: id,
      pnl: { amount: 1, currency: 'USD' },
    }),
    'ingest.CommandReported': (id: string) => ({
      engineId: 'e1',
      commandId: id,
      commandType: 'SET_FAN',
      outcome: 'success',
      requiredApproval: false,
    }),
    'ingest.IncidentReported': (id: string) => ({
      engineId: 'e1',
      incidentId: id,
      severity: 'low',
      summary: 'fan stuck',
    }),
    'ingest.SandboxTrialReported': (id: string) => ({
      engineId: 'e1',
      domain: 'd1',
      trialId: id,
      success: true,
    }),
  };

  it.each(Object.entries(facts))(
    'should refuse a %s whose id is only spaces, and take one with text',
    (type, data) => {
      expect(catalogue.check({ type, version: 1, data: data(' ') })).toMatchObject({ ok: false });
      expect(catalogue.check({ type, version: 1, data: data('\t ') })).toMatchObject({ ok: false });
      expect(catalogue.check({ type, version: 1, data: data('order 42') })).toEqual({ ok: true });
    },
  );
});
