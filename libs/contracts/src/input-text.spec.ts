import { compile } from './ajv';
import { catalogue } from './catalogue';
import { EngageKillSwitchCommand } from './messages/gate-control.messages';
import { InputText } from './schema';

const MESSAGE =
  'must not be blank nor contain control characters (but tab and line feed) or bidirectional overrides';

describe('Input text', () => {
  const check = compile(InputText(500));

  describe('Given ordinary text in any script', () => {
    it.each([
      ['plain text', 'runaway losses after the 14:00 release'],
      ['accents', 'Dépassement du seuil, arrêt immédiat'],
      ['emoji', 'rolled back 🚨🔥'],
      ['CJK', '異常な損失のため停止'],
      ['right-to-left text with its marks', 'עצירה\u200F 42 \u200Eحد'],
      ['a tab', 'step\t2 failed'],
      ['several lines', 'first line\nsecond line\n'],
    ])('should take %s', (_, text) => {
      expect(check(text)).toEqual({ ok: true, value: text });
    });
  });

  describe('Given a character that could forge a log line or make text read otherwise', () => {
    it.each([
      ['an ANSI escape (ESC, C0)', 'ok \u001b[31mFAILED\u001b[0m'],
      ['a carriage return', 'approved\rrejected'],
      ['CR LF', 'first line\r\nsecond line'],
      ['a bell', 'ding\u0007'],
      ['a vertical tab', 'a\u000Bb'],
      ['a form feed', 'a\u000Cb'],
      ['the unit separator', 'a\u001Fb'],
      ['DEL', 'a\u007Fb'],
      ['a C1 control (U+0080)', 'a\u0080b'],
      ['next line (U+0085)', 'a\u0085b'],
      ['the C1 control sequence introducer', 'a\u009B31mb'],
      ['U+009F', 'a\u009Fb'],
      ...['\u202A', '\u202B', '\u202C', '\u202D', '\u202E'].map((c) => [
        `the bidi embedding or override U+${c.charCodeAt(0).toString(16).toUpperCase()}`,
        `a${c}b`,
      ]),
      ...['\u2066', '\u2067', '\u2068', '\u2069'].map((c) => [
        `the bidi isolate U+${c.charCodeAt(0).toString(16).toUpperCase()}`,
        `a${c}b`,
      ]),
    ])('should refuse %s, saying why', (_, text) => {
      expect(check(text)).toEqual({ ok: false, issues: [{ path: '/', message: MESSAGE }] });
    });
  });

  it('should refuse text made only of spaces or line breaks with the same message', () => {
    expect(check('   ')).toEqual({ ok: false, issues: [{ path: '/', message: MESSAGE }] });
    expect(check('\t\n').ok).toBe(false);
  });

  describe('Given a reason written before the rule, already stored in an event', () => {
    const reason = 'runaway \u202Esessol\u202C losses\r\n';

    it('should refuse it in a new command', () => {
      const engage = compile(EngageKillSwitchCommand);
      expect(engage({ actor: { kind: 'operator', id: 'op-1' }, mode: 'hard', reason })).toEqual({
        ok: false,
        issues: [{ path: '/reason', message: MESSAGE }],
      });
    });

    it('should still take the event when a consumer reads it back', () => {
      expect(
        catalogue.check({
          type: 'gate.KillSwitchEngaged',
          version: 1,
          data: {
            actor: { kind: 'operator', id: 'op-1' },
            mode: 'hard',
            reason,
            engagedAt: '2026-11-21T20:42:55.123Z',
          },
        }),
      ).toEqual({ ok: true });
    });
  });
});
