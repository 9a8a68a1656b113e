import { DEFAULT_BREAKER_RULES } from './breaker-rules';
import {
  appendCommand,
  appendIncident,
  EMPTY_HISTORY,
  type CommandRecord,
  type IncidentRecord,
  type MetricsHistory,
} from './command-metrics';
import {
  assessReadiness,
  ATTESTATION_ITEM_IDS,
  READINESS_CHECKLIST,
  type Attestation,
  type ReadinessInput,
  type ReadinessReport,
} from './readiness';

const NOW = '2026-11-20T17:00:00.000Z';
const DAY = 24 * 60 * 60 * 1000;
let sequence = 0;

describe('Readiness checklist', () => {
  describe('The checklist', () => {
    it('should have 80 points: technical 35, process 25, organizational 20', () => {
      const points = (category?: string) =>
        READINESS_CHECKLIST.filter((i) => !category || i.category === category).reduce(
          (s, i) => s + i.points,
          0,
        );
      expect([points(), points('technical'), points('process'), points('organizational')]).toEqual([
        80, 35, 25, 20,
      ]);
    });

    it('should group the points as seed 003 does', () => {
      const groups: Record<string, number> = {};
      for (const i of READINESS_CHECKLIST) groups[i.group] = (groups[i.group] ?? 0) + i.points;
      expect(groups).toEqual({
        'Command Performance': 15,
        'Safety & Testing': 10,
        Infrastructure: 10,
        Documentation: 10,
        'Approval Workflow': 8,
        Compliance: 7,
        'Team Readiness': 12,
        'Stakeholder Buy-in': 8,
      });
    });

    it('should mark the seed’s required items', () => {
      expect(READINESS_CHECKLIST.filter((i) => i.required).map((i) => i.id)).toEqual([
        'phase-tenure',
        'success-rate',
        'eval-coverage',
        'zero-critical-incidents',
        'circuit-breakers',
        'monitoring',
        'runbooks',
        'escalation-path',
        'stakeholder-signoff',
        'oncall-trained',
        'team-consensus',
        'product-approval',
        'ops-approval',
      ]);
    });
  });

  describe('Given an engine 200 days at L4 with clean metrics and every item attested', () => {
    it('should be READY with 80/80 and no blockers', () => {
      const report = assessReadiness(ready());

      expect(report).toMatchObject({
        score: 80,
        maxScore: 80,
        status: 'READY',
        blockers: [],
        byCategory: {
          technical: { score: 35, max: 35 },
          process: { score: 25, max: 25 },
          organizational: { score: 20, max: 20 },
        },
      });
      expect(report.items.every((i) => i.passed)).toBe(true);
    });
  });

  describe('Metric items', () => {
    it.each([
      ['phase-tenure', '179 days at the phase', { phaseSince: daysAgo(179) }, false, '179 days at L4'],
      ['phase-tenure', '180 days at the phase', { phaseSince: daysAgo(180) }, true, '180 days at L4'],
      [
        'success-rate',
        '99.5 % succeeded',
        { history: history({ ok: 995, error: 5 }) },
        false,
        '99.5% of 1000',
      ],
      [
        'success-rate',
        '200 of 201 succeeded (99.502 %: just above the bar, and shown so)',
        { history: history({ ok: 200, error: 1 }) },
        true,
        '99.502% of 201',
      ],
      [
        'success-rate',
        '99.6 % succeeded',
        { history: history({ ok: 996, error: 4 }) },
        true,
        '99.6% of 1000',
      ],
      ['success-rate', 'no commands', { history: EMPTY_HISTORY }, false, 'no commands in the last 30d'],
      [
        'success-rate',
        'only commands older than 30 days',
        { history: history({ ok: 1000 }, 31 * DAY) },
        false,
        'no commands',
      ],
      [
        'approval-rate',
        '8 of 10 approved',
        { history: history({ ok: 1000, approved: 8, refused: 2 }) },
        false,
        '8 of 10 approval requests granted (80%',
      ],
      [
        'approval-rate',
        '9 of 10 approved',
        { history: history({ ok: 1000, approved: 9, refused: 1 }) },
        true,
        '9 of 10',
      ],
      ['approval-rate', 'no approval needed', { history: history({ ok: 1000 }) }, true, 'no command needed'],
      [
        'rollback-rate',
        '2 % rolled back',
        { history: history({ ok: 980, rolledBack: 20 }) },
        false,
        '20 of 1000 commands rolled back (2%',
      ],
      [
        'rollback-rate',
        '1.9 % rolled back',
        { history: history({ ok: 981, rolledBack: 19 }) },
        true,
        '19 of 1000',
      ],
      ['rollback-rate', 'no commands', { history: EMPTY_HISTORY }, false, 'no commands'],
      [
        'zero-critical-incidents',
        'a critical incident 29 days ago',
        { history: history({ ok: 1000 }, DAY, [{ severity: 'critical', age: 29 * DAY }]) },
        false,
        '1 critical incidents in the last 30d',
      ],
      [
        'zero-critical-incidents',
        'a high incident',
        { history: history({ ok: 1000 }, DAY, [{ severity: 'high', age: DAY }]) },
        true,
        '0 critical incidents',
      ],
      [
        'circuit-breakers',
        'every rule disabled',
        { breakerRules: DEFAULT_BREAKER_RULES.map((r) => ({ ...r, enabled: false })) },
        false,
        '0 of 4 breaker rules enabled, 0 reverting to L3 (needs at least one)',
      ],
      [
        'circuit-breakers',
        'only the alerting rule enabled',
        { breakerRules: DEFAULT_BREAKER_RULES.map((r) => ({ ...r, enabled: r.action === 'alert_only' })) },
        false,
        '1 of 4 breaker rules enabled, 0 reverting',
      ],
      [
        'circuit-breakers',
        'the default rules',
        { breakerRules: DEFAULT_BREAKER_RULES },
        true,
        '4 of 4 breaker rules enabled, 2 reverting to L3',
      ],
    ] as const)('%s with %s: passed = %s', (id, _case, overrides, passed, detail) => {
      const result = itemOf(assessReadiness({ ...ready(), ...overrides }), id);

      expect(result).toMatchObject({ kind: 'metric', passed });
      expect(result.detail).toContain(detail);
    });

    it('should ignore an attestation of a computed item', () => {
      const input = ready({ phaseSince: daysAgo(10) });
      const report = assessReadiness({
        ...input,
        attestations: { ...input.attestations, 'phase-tenure': attestation('phase-tenure') },
      });
      expect(itemOf(report, 'phase-tenure').passed).toBe(false);
    });
  });

  describe('Attestation items', () => {
    const attestationItems = READINESS_CHECKLIST.filter((i) => i.kind === 'attestation');

    it('should be every item the history cannot show', () => {
      expect(ATTESTATION_ITEM_IDS).toEqual([
        'eval-coverage',
        'monitoring',
        'kill-switch-tested',
        'chaos-testing',
        'runbooks',
        'incident-playbooks',
        'architecture-docs',
        'escalation-path',
        'stakeholder-signoff',
        'security-review',
        'audit-trail',
        'rollback-plan',
        'oncall-trained',
        'team-consensus',
        'product-approval',
        'ops-approval',
      ]);
    });

    describe.each(attestationItems.map((i) => [i.id, i] as const))('%s', (id, checklistItem) => {
      it(`should cost ${checklistItem.points} points when not attested`, () => {
        const report = assessReadiness(ready({ without: id }));

        expect(report.score).toBe(80 - checklistItem.points);
        expect(itemOf(report, id)).toMatchObject({ passed: false, detail: 'not attested' });
        expect(report.byCategory[checklistItem.category].score).toBe(
          report.byCategory[checklistItem.category].max - checklistItem.points,
        );
        if (checklistItem.required) expect(report.status).not.toBe('READY');
      });

      it('should fail when attested as failing', () => {
        const report = assessReadiness(ready({ attest: { [id]: attestation(id, { passed: false }) } }));
        expect(itemOf(report, id)).toMatchObject({ passed: false });
        expect(itemOf(report, id).detail).toContain('attested failing by alice');
      });

      it('should fail once its attestation expired', () => {
        const report = assessReadiness(ready({ attest: { [id]: attestation(id, { expiresAt: NOW }) } }));
        expect(itemOf(report, id)).toMatchObject({
          passed: false,
          detail: `attestation by alice expired at ${NOW}`,
        });
      });

      it('should pass until it expires, showing the evidence', () => {
        const expiresAt = new Date(Date.parse(NOW) + 1).toISOString();
        const report = assessReadiness(ready({ attest: { [id]: attestation(id, { expiresAt }) } }));
        expect(itemOf(report, id)).toMatchObject({
          passed: true,
          detail: `attested passing by alice at ${daysAgo(1)}: evidence for ${id}`,
        });
      });
    });
  });

  describe('Thresholds', () => {
    it.each([
      ['76 with every required item', ['kill-switch-tested', 'chaos-testing'], 76, 'READY'],
      ['75', ['incident-playbooks', 'architecture-docs'], 75, 'ALMOST_READY'],
      ['72', ['security-review', 'incident-playbooks', 'audit-trail'], 72, 'ALMOST_READY'],
      ['71', ['security-review', 'kill-switch-tested', 'chaos-testing', 'audit-trail'], 71, 'NEEDS_WORK'],
    ] as const)('should rate a score of %s as %s', (_case, missing, score, status) => {
      const report = assessReadiness(ready({ without: missing }));
      expect({ score: report.score, status: report.status }).toEqual({ score, status });
    });

    it('should list the score as a blocker below 76', () => {
      expect(
        assessReadiness(ready({ without: ['incident-playbooks', 'architecture-docs'] })).blockers,
      ).toEqual(['score 75/80 is below 76']);
    });

    it('should keep a missing required item from READY even with 77 points', () => {
      const report = assessReadiness({
        ...ready(),
        breakerRules: DEFAULT_BREAKER_RULES.map((r) => ({ ...r, enabled: false })),
      });

      expect(report).toMatchObject({ score: 77, status: 'ALMOST_READY' });
      expect(report.blockers).toEqual([
        'Circuit breakers configured (required): 0 of 4 breaker rules enabled, 0 reverting to L3 (needs at least one)',
      ]);
    });

    it('should list every failing required item and the score when far off', () => {
      const report = assessReadiness(
        ready({ phaseSince: daysAgo(30), without: ['runbooks', 'ops-approval'] }),
      );

      expect(report).toMatchObject({ score: 66, status: 'NEEDS_WORK' });
      expect(report.blockers).toEqual([
        '6+ months at current phase (required): 30 days at L4 since ' + daysAgo(30) + ' (needs 180)',
        'Runbooks complete (required): not attested',
        'Ops approval (required): not attested',
        'score 66/80 is below 76',
      ]);
    });
  });
});

function daysAgo(days: number): string {
  return new Date(Date.parse(NOW) - days * DAY).toISOString();
}

function attestation(itemId: string, overrides: Partial<Attestation> = {}): Attestation {
  return {
    itemId,
    passed: true,
    evidence: `evidence for ${itemId}`,
    by: 'alice',
    at: daysAgo(1),
    ...overrides,
  };
}

interface Mix {
  readonly ok?: number;
  readonly error?: number;
  readonly rolledBack?: number;
  /** Successful commands that needed approval and got it / were refused (on top of `ok`). */
  readonly approved?: number;
  readonly refused?: number;
}

function history(
  mix: Mix,
  age = DAY,
  incidents: readonly { severity: IncidentRecord['severity']; age: number }[] = [],
): MetricsHistory {
  const at = new Date(Date.parse(NOW) - age).toISOString();
  const command = (outcome: CommandRecord['outcome'], extra: Partial<CommandRecord> = {}): CommandRecord => ({
    commandId: `c-${(sequence += 1)}`,
    commandType: 'SET_POWER',
    at,
    outcome,
    requiredApproval: false,
    ...extra,
  });
  const records: CommandRecord[] = [
    ...Array.from({ length: mix.ok ?? 0 }, () => command('success')),
    ...Array.from({ length: mix.error ?? 0 }, () => command('error')),
    ...Array.from({ length: mix.rolledBack ?? 0 }, () => command('rolled_back')),
    ...Array.from({ length: mix.approved ?? 0 }, () =>
      command('success', { requiredApproval: true, approved: true }),
    ),
    ...Array.from({ length: mix.refused ?? 0 }, () =>
      command('success', { requiredApproval: true, approved: false }),
    ),
  ];
  // Appended as they arrived: the history is stamped on receipt, so append "now" = their time.
  const withCommands = records.reduce((h, r) => appendCommand(h, r, r.at), EMPTY_HISTORY);
  return incidents.reduce(
    (h, i) =>
      appendIncident(
        h,
        {
          incidentId: `i-${(sequence += 1)}`,
          at: new Date(Date.parse(NOW) - i.age).toISOString(),
          severity: i.severity,
          summary: 'overheat',
        },
        NOW,
      ),
    withCommands,
  );
}

const CLEAN_HISTORY = history({ ok: 1000 });

function ready(
  options: {
    phaseSince?: string;
    without?: string | readonly string[];
    attest?: Record<string, Attestation>;
  } = {},
): ReadinessInput {
  const without = typeof options.without === 'string' ? [options.without] : (options.without ?? []);
  const attestations: Record<string, Attestation> = {};
  for (const id of ATTESTATION_ITEM_IDS) if (!without.includes(id)) attestations[id] = attestation(id);
  return {
    history: CLEAN_HISTORY,
    phase: 'L4',
    phaseSince: options.phaseSince ?? daysAgo(200),
    attestations: { ...attestations, ...options.attest },
    now: NOW,
  };
}

function itemOf(report: ReadinessReport, id: string) {
  const found = report.items.find((i) => i.id === id);
  if (!found) throw new Error(`no item ${id}`);
  return found;
}
