import { catalogue } from '@bifrost/contracts';
import { governanceEvents, governanceStory } from '../testing/governance.fixtures';
import {
  dumpReadModels,
  publishAll,
  startProjectorHarness,
  type ProjectorHarness,
} from '../testing/projector.fixtures';

describe('governance read models against real NATS and Postgres', () => {
  let h: ProjectorHarness;

  beforeAll(async () => {
    h = await startProjectorHarness('projgov');
    h.startProjector();
    await publishAll(h.client, governanceStory(h.ns.naming, 'roaster-1'));
    await h.caughtUp();
  });
  afterAll(() => h?.stop());

  describe('Given one engine’s whole governance story', () => {
    it('should have published every governance event type in the catalogue', () => {
      const published = new Set(governanceStory(h.ns.naming, 'x').map((e) => e.type));
      const governanceTypes = catalogue.definitions
        .filter((d) => d.kind === 'event' && d.type.startsWith('governance.'))
        .map((d) => d.type);
      expect(governanceTypes.filter((t) => !published.has(t))).toEqual([]);
    });

    it('should keep the enrolment with the reconfigured ladder', async () => {
      const [engine] = await h.rows(
        `SELECT engine_id, enrolled_phase, ladder->1->>'validationDays' AS l3plus_days, ladder_updated_at IS NOT NULL AS reconfigured
         FROM governance_engines`,
      );
      expect(engine).toEqual({
        engine_id: 'roaster-1',
        enrolled_phase: 'L3',
        l3plus_days: '7',
        reconfigured: true,
      });
    });

    it('should record commands and incidents once each', async () => {
      expect(
        await h.rows(
          `SELECT command_id, outcome, required_approval, approved FROM governance_commands ORDER BY command_id`,
        ),
      ).toEqual([
        { command_id: 'c-1', outcome: 'success', required_approval: true, approved: true },
        { command_id: 'c-2', outcome: 'error', required_approval: true, approved: true },
        { command_id: 'c-3', outcome: 'success', required_approval: true, approved: true },
      ]);
      expect(await h.rows(`SELECT incident_id, severity, command_type FROM governance_incidents`)).toEqual([
        { incident_id: 'inc-1', severity: 'high', command_type: 'SET_FAN' },
      ]);
    });

    it('should keep the latest attestation per item', async () => {
      expect(await h.rows(`SELECT item_id, passed, attested_by FROM governance_attestations`)).toEqual([
        { item_id: 'runbooks', passed: false, attested_by: 'op-7' },
      ]);
    });

    it('should keep the rules from the enrolment and the operator’s change', async () => {
      expect(
        await h.rows(
          `SELECT rule_id, condition, rule_window, action, enabled, update_reason FROM governance_breaker_rules ORDER BY rule_id`,
        ),
      ).toEqual([
        {
          rule_id: 'high-error-rate',
          condition: 'errorRate > 0.03',
          rule_window: '5m',
          action: 'revert_to_l3',
          enabled: true,
          update_reason: 'tighter',
        },
        {
          rule_id: 'repeated-command-failures',
          condition: 'failures >= 3',
          rule_window: '5m',
          action: 'pause_command_type',
          enabled: true,
          update_reason: null,
        },
      ]);
    });

    it('should open breaker events and close the resolved one, resuming its command type', async () => {
      expect(
        await h.rows(
          `SELECT event_id, command_type, observed->>'failures' AS failures, resolved_by->>'id' AS resolved_by, resolution_note
           FROM governance_breaker_events ORDER BY event_id`,
        ),
      ).toEqual([
        {
          event_id: 'brk-1',
          command_type: 'SET_FAN',
          failures: '3',
          resolved_by: 'op-7',
          resolution_note: 'fan replaced',
        },
        {
          event_id: 'brk-2',
          command_type: 'SET_FAN',
          failures: '3',
          resolved_by: null,
          resolution_note: null,
        },
      ]);
      expect(await h.rows(`SELECT * FROM governance_paused_commands`)).toEqual([]);
    });

    it('should keep the cycle reports with their readiness and decision', async () => {
      expect(
        await h.rows(
          `SELECT report_id, cycle_trigger, readiness_score, readiness_status, proposed, proposal_id, report->'metrics'->>'window' AS metrics_window
           FROM governance_reports ORDER BY ran_at`,
        ),
      ).toEqual([
        {
          report_id: 'rep-1',
          cycle_trigger: 'operator',
          readiness_score: 80,
          readiness_status: 'READY',
          proposed: false,
          proposal_id: null,
          metrics_window: '7d',
        },
        {
          report_id: 'rep-2',
          cycle_trigger: 'operator',
          readiness_score: 80,
          readiness_status: 'READY',
          proposed: true,
          proposal_id: 'p-1',
          metrics_window: '7d',
        },
      ]);
    });

    it('should follow each proposal to approved, rejected, expired or pending', async () => {
      expect(
        await h.rows(
          `SELECT proposal_id, status, approvals, outstanding, closed_by->>'id' AS closed_by, close_reason,
             closed_at IS NOT NULL AS closed
           FROM governance_proposals ORDER BY proposal_id`,
        ),
      ).toEqual([
        {
          proposal_id: 'p-1',
          status: 'APPROVED',
          approvals: [
            { principalId: 'alice', role: 'tech_lead', at: expect.any(String), note: 'looks good' },
          ],
          outstanding: [],
          closed_by: null,
          close_reason: null,
          closed: true,
        },
        {
          proposal_id: 'p-2',
          status: 'REJECTED',
          approvals: [],
          outstanding: ['tech_lead'],
          closed_by: 'op-7',
          close_reason: 'not now',
          closed: true,
        },
        {
          proposal_id: 'p-3',
          status: 'EXPIRED',
          approvals: [],
          outstanding: ['tech_lead'],
          closed_by: null,
          close_reason: null,
          closed: true,
        },
        {
          proposal_id: 'p-4',
          status: 'PENDING',
          approvals: [],
          outstanding: ['tech_lead'],
          closed_by: null,
          close_reason: null,
          closed: false,
        },
      ]);
    });

    it('should keep the approver roles', async () => {
      expect(await h.rows(`SELECT principal_id, roles FROM governance_approvers`)).toEqual([
        { principal_id: 'alice', roles: ['tech_lead', 'ops_lead'] },
      ]);
    });
  });

  describe('Given the story replayed into a fresh projection (rebuild)', () => {
    it('should reach the same rows, and not count a command recorded twice', async () => {
      const before = await dumpReadModels(h.dataSource);
      await publishAll(h.client, [governanceEvents(h.ns.naming).command('roaster-1', 'c-1', 'error', 2)]);
      await h.caughtUp();

      const after = await dumpReadModels(h.dataSource);
      expect(after['governance_commands']).toEqual(before['governance_commands']);
      expect(before['governance_commands']).toHaveLength(3);
    });
  });
});
