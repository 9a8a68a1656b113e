import {
  DeciderSpecification,
  ForbiddenError,
  IllegalStateError,
  NotFoundError,
  ValidationError,
  fold,
} from '@bifrost/event-sourcing';
import type { Actor, ApproverRole, AutonomyPhase } from '@bifrost/contracts';
import { DEFAULT_BREAKER_RULES } from './breaker-rules';
import type { CommandRecord } from './command-metrics';
import type { Proposal } from './cycle';
import {
  GOVERNANCE_AGENT,
  approversDecider,
  type ApproversEvent,
  governanceDecider,
  type EnrolledGovernance,
  type GovernanceCommand,
  type GovernanceContext,
  type GovernanceEvent,
} from './governance.decider';
import { DEFAULT_PHASE_LADDER, addDays, validateLadder, whitelistOf } from './phases';

const NOW = '2026-11-20T17:00:00.000Z';
const ENGINE = 'roaster-1';
const alice: Actor = { kind: 'operator', id: 'alice' };
const bob: Actor = { kind: 'operator', id: 'bob' };
const carol: Actor = { kind: 'operator', id: 'carol' };
const approvers: GovernanceContext = {
  approvers: {
    alice: ['tech_lead'],
    bob: ['ops_lead', 'tech_lead'],
    carol: ['ops_lead'],
    dave: ['product_lead'],
  },
};
const spec = DeciderSpecification.for(governanceDecider, approvers);

describe('Engine governance', () => {
  describe('Given an engine nobody enrolled', () => {
    it('should enrol it at L3 with the seed ladder and rules on its first command record', () => {
      const record = command('c1', 'SET_POWER', 'success');
      spec
        .given([])
        .when({ type: 'RecordCommand', data: { engineId: ENGINE, now: NOW, record, ingestId: 'i1' } })
        .then([
          enrolledEvent('L3', NOW, GOVERNANCE_AGENT, 'first record of an engine not under governance'),
          phaseChanged('L3', [], {
            reason: 'enrolled at L3',
            previousPhase: null,
            cause: 'initial',
            at: NOW,
          }),
          // L3 whitelists nothing: a command run without approval breaks the engine's autonomy.
          {
            type: 'CommandRecorded',
            data: { engineId: ENGINE, record, ingestId: 'i1', outsideAutonomy: true },
          },
        ]);
    });

    it('should enrol it at an operator-chosen phase, backdated, with the operator’s reason, and tell the gate its whitelist', () => {
      const since = addDays(NOW, -30);
      spec.when(enroll('L4', since)).then([
        enrolledEvent('L4', since, alice, 'roaster line 1'),
        phaseChanged('L4', ['SET_AIRFLOW', 'SET_DRUM', 'SET_FAN', 'SET_POWER'], {
          reason: 'enrolled at L4',
          previousPhase: null,
          cause: 'initial',
          at: since,
        }),
      ]);
    });

    it('should refuse a phaseSince in the future, an engine actor, and commands before enrolment', () => {
      spec
        .when(enroll('L3', addDays(NOW, 1)))
        .thenThrows(ValidationError, codeIs('GOVERNANCE.BAD_PHASE_SINCE'));
      spec
        .when({
          type: 'EnrollEngine',
          data: { engineId: ENGINE, now: NOW, actor: { kind: 'engine', id: ENGINE }, reason: 'r' },
        })
        .thenThrows(ForbiddenError, codeIs('GOVERNANCE.OPERATOR_ONLY'));
      spec
        .when({ type: 'CheckBreakers', data: { engineId: ENGINE, now: NOW } })
        .thenThrows(NotFoundError, codeIs('GOVERNANCE.ENGINE_NOT_ENROLLED'));
    });

    it('should refuse a ladder that skips a phase', () => {
      const ladder = DEFAULT_PHASE_LADDER.filter((r) => r.phase !== 'L4');
      spec
        .when({
          type: 'EnrollEngine',
          data: { engineId: ENGINE, now: NOW, actor: alice, ladder, reason: 'r' },
        })
        .thenThrows(ValidationError, codeIs('GOVERNANCE.BAD_LADDER'));
    });

    it('should refuse a ladder whose whole whitelist would hold more than 500 command types, and take 500', () => {
      const types = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}_${i}`);
      const ladder = (l4: number) =>
        DEFAULT_PHASE_LADDER.map((r) =>
          r.phase === 'L3+'
            ? { ...r, additions: types('TUNE', 300) }
            : r.phase === 'L4'
              ? { ...r, additions: types('ROAST', l4) }
              : r,
        );
      const enrol = (l4: number) =>
        spec.when({
          type: 'EnrollEngine',
          data: { engineId: ENGINE, now: NOW, actor: alice, ladder: ladder(l4), reason: 'r' },
        });

      // Beside L3+ and L4, the default ladder's L4+ and L5 whitelist a few types of their own.
      const others = new Set(
        DEFAULT_PHASE_LADDER.flatMap((r) => (r.phase === 'L4+' || r.phase === 'L5' ? r.additions : [])),
      ).size;

      enrol(201 - others).thenThrows(ValidationError, codeIs('GOVERNANCE.BAD_LADDER'));
      expect(validateLadder(ladder(200 - others))).toHaveLength(5);
    });

    it.each([
      ['twice in one rung', { 'L3+': ['SET_FAN', 'SET_FAN'] }],
      ['in two rungs', { 'L3+': ['SET_FAN'], L4: ['SET_FAN'] }],
    ])('should refuse a ladder that adds a command type %s, naming it', (_, additions) => {
      const ladder = DEFAULT_PHASE_LADDER.map((r) => ({
        ...r,
        additions:
          (additions as Record<string, string[]>)[r.phase] ?? r.additions.filter((t) => t !== 'SET_FAN'),
      }));
      expect(() => validateLadder(ladder)).toThrow(
        expect.objectContaining({ code: 'GOVERNANCE.BAD_LADDER', details: { twice: ['SET_FAN'] } }),
      );
    });

    it('should refuse a ladder that whitelists a command at the L3 baseline', () => {
      const ladder = DEFAULT_PHASE_LADDER.map((r) =>
        r.phase === 'L3' ? { ...r, additions: ['EMERGENCY_SHUTDOWN'] } : r,
      );
      spec
        .when({
          type: 'EnrollEngine',
          data: { engineId: ENGINE, now: NOW, actor: alice, ladder, reason: 'r' },
        })
        .thenThrows(ValidationError, codeIs('GOVERNANCE.BAD_LADDER'));
    });
  });

  describe('Given an enrolled engine', () => {
    it('should refuse a second enrolment', () => {
      spec
        .given(enrolled('L3'))
        .when(enroll('L4', NOW))
        .thenThrows(IllegalStateError, codeIs('GOVERNANCE.ALREADY_ENROLLED'));
    });

    describe('When it records commands (safety constraint: no unapproved command outside the whitelist)', () => {
      const recorded = (record: CommandRecord, outside: boolean): GovernanceEvent => ({
        type: 'CommandRecorded',
        data: {
          engineId: ENGINE,
          record,
          ingestId: `i-${record.commandId}`,
          ...(outside ? { outsideAutonomy: true as const } : {}),
        },
      });

      it('should not flag a command type its phase whitelists', () => {
        const record = command('w1', 'SET_FAN', 'success');
        spec
          .given(enrolled('L3+'))
          .when(recordCmd(record))
          .then([recorded(record, false)]);
      });

      it('should not flag a command that went through approval', () => {
        const record = { ...command('a1', 'SET_DRUM', 'success'), requiredApproval: true, approved: true };
        spec
          .given(enrolled('L3+'))
          .when(recordCmd(record))
          .then([recorded(record, false)]);
      });

      it('should flag an unapproved command whose type the phase does not whitelist', () => {
        const record = command('x1', 'SET_DRUM', 'success');
        spec
          .given(enrolled('L3+'))
          .when(recordCmd(record))
          .then([recorded(record, true)]);
      });
    });

    it('should record a command id once', () => {
      const record = command('c1', 'SET_POWER', 'success');
      spec
        .given([
          ...enrolled('L3'),
          { type: 'CommandRecorded', data: { engineId: ENGINE, record, ingestId: 'i1' } },
        ])
        .when({ type: 'RecordCommand', data: { engineId: ENGINE, now: NOW, record, ingestId: 'i2' } })
        .thenNothingHappened();
    });

    it('should record attestations of attestation items only, with a future expiry', () => {
      const attest = (itemId: string, expiresAt?: string): GovernanceCommand => ({
        type: 'RecordAttestation',
        data: {
          engineId: ENGINE,
          now: NOW,
          actor: alice,
          itemId,
          passed: true,
          evidence: 'wiki/runbooks',
          ...(expiresAt ? { expiresAt } : {}),
        },
      });
      spec
        .given(enrolled('L3'))
        .when(attest('runbooks', addDays(NOW, 90)))
        .then([
          {
            type: 'AttestationRecorded',
            data: {
              engineId: ENGINE,
              attestation: {
                itemId: 'runbooks',
                passed: true,
                evidence: 'wiki/runbooks',
                by: 'alice',
                at: NOW,
                expiresAt: addDays(NOW, 90),
              },
            },
          },
        ]);
      spec
        .given(enrolled('L3'))
        .when(attest('success-rate'))
        .thenThrows(ValidationError, codeIs('GOVERNANCE.UNKNOWN_CHECKLIST_ITEM'));
      spec
        .given(enrolled('L3'))
        .when(attest('nonsense'))
        .thenThrows(ValidationError, codeIs('GOVERNANCE.UNKNOWN_CHECKLIST_ITEM'));
      spec
        .given(enrolled('L3'))
        .when(attest('runbooks', NOW))
        .thenThrows(ValidationError, codeIs('GOVERNANCE.BAD_EXPIRY'));
    });

    it('should change a rule, refuse an unparsable condition and an incomplete new rule', () => {
      const update = (extra: Record<string, unknown>): GovernanceCommand =>
        ({
          type: 'UpdateBreakerRule',
          data: { engineId: ENGINE, now: NOW, actor: alice, reason: 'tune', ...extra },
        }) as GovernanceCommand;
      const previous = DEFAULT_BREAKER_RULES[0] as (typeof DEFAULT_BREAKER_RULES)[number];
      spec
        .given(enrolled('L3'))
        .when(update({ ruleId: 'high-error-rate', condition: 'errorRate > 0.03' }))
        .then([
          {
            type: 'BreakerRuleUpdated',
            data: {
              engineId: ENGINE,
              rule: { ...previous, condition: 'errorRate > 0.03' },
              previous: { ...previous },
              actor: alice,
              reason: 'tune',
              at: NOW,
            },
          },
        ]);
      spec
        .given(enrolled('L3'))
        .when(update({ ruleId: 'high-error-rate', condition: 'errorRate > 0.05' }))
        .thenNothingHappened();
      spec
        .given(enrolled('L3'))
        .when(update({ ruleId: 'high-error-rate', condition: 'process.exit() > 1' }))
        .thenThrows(ValidationError, codeIs('GOVERNANCE.BAD_CONDITION'));
      spec
        .given(enrolled('L3'))
        .when(update({ ruleId: 'my-rule', condition: 'errors > 1' }))
        .thenThrows(ValidationError, codeIs('GOVERNANCE.INCOMPLETE_RULE'));
    });
  });

  describe('Given an engine at L4 with the default breakers', () => {
    it('should revert to L3 at once when a failing record trips the error-rate breaker', () => {
      const history = [...enrolled('L4'), ...successes(9, 'SET_DRUM')];
      const failed = command('bad-1', 'SET_DRUM', 'error');
      const events = decide(history, {
        type: 'RecordCommand',
        data: { engineId: ENGINE, now: NOW, record: failed, ingestId: 'ib' },
      });
      expect(events.map((e) => e.type)).toEqual(['CommandRecorded', 'BreakerTripped', 'PhaseChanged']);
      expect(events[1]?.data).toMatchObject({
        breakerEvent: {
          eventId: 'brk-1-high-error-rate',
          ruleId: 'high-error-rate',
          action: 'revert_to_l3',
          observed: { errorRate: 0.1, commands: 10 },
        },
      });
      expect(events[2]).toEqual(
        phaseChanged('L3', [], {
          reason: expect.stringContaining('High Error Rate') as unknown as string,
          previousPhase: 'L4',
          cause: 'breaker',
          causeId: 'brk-1-high-error-rate',
          at: NOW,
        }),
      );
    });

    it('should not trip again while its breaker event is open, and keep L3 when the event is resolved', () => {
      const history = [...enrolled('L4'), ...successes(1, 'SET_DRUM')];
      const first = decide(history, recordCmd(command('bad-1', 'SET_DRUM', 'error')));
      const later = [...history, ...first];
      expect(decide(later, recordCmd(command('bad-2', 'SET_DRUM', 'error'))).map((e) => e.type)).toEqual([
        'CommandRecorded',
      ]);
      const resolved = decide(later, {
        type: 'ResolveBreakerEvent',
        data: {
          engineId: ENGINE,
          now: NOW,
          actor: alice,
          eventId: 'brk-1-high-error-rate',
          note: 'fixed the drum',
        },
      });
      expect(resolved).toEqual([
        {
          type: 'BreakerResolved',
          data: {
            engineId: ENGINE,
            eventId: 'brk-1-high-error-rate',
            actor: alice,
            note: 'fixed the drum',
            resolvedAt: NOW,
          },
        },
      ]);
      expect(state([...later, ...resolved]).phase).toBe('L3');
    });

    it('should count only what happened after a resolution: what tripped a rule does not trip it again, a new failure does', () => {
      const history = [...enrolled('L4'), ...successes(1, 'SET_DRUM')];
      const tripped = [...history, ...decide(history, recordCmd(command('bad-1', 'SET_DRUM', 'error')))];
      const resolved = [
        ...tripped,
        ...decide(tripped, {
          type: 'ResolveBreakerEvent',
          data: {
            engineId: ENGINE,
            now: at(1),
            actor: alice,
            eventId: 'brk-1-high-error-rate',
            note: 'fixed',
          },
        }),
      ];

      // The 5-minute window still holds 1 error in 2 commands (50 %), all of it before the resolution.
      expect(decide(resolved, { type: 'CheckBreakers', data: { engineId: ENGINE, now: at(2) } })).toEqual([]);
      expect(
        decide(resolved, recordCmd(command('ok-after', 'SET_DRUM', 'success', at(3)))).map((e) => e.type),
      ).toEqual(['CommandRecorded']);
      const again = decide(resolved, recordCmd(command('bad-2', 'SET_DRUM', 'error', at(3))));
      expect(again.map((e) => e.type)).toEqual(['CommandRecorded', 'BreakerTripped']);
      expect(again[1]?.data).toMatchObject({
        breakerEvent: { eventId: 'brk-2-high-error-rate', observed: { commands: 1, errorRate: 1 } },
      });
    });

    it('should trip the error-rate breaker on a periodic check with no new failure, as older successes leave the window', () => {
      // 4 errors in 107 commands (3.7 %); a minute later the 60 older successes have left the 5-minute
      // window: 4 errors in 47 (8.5 %). One error per type, so no type reaches 3 failures.
      const old = Array.from({ length: 60 }, (_, i) => command(`old-${i}`, 'SET_DRUM', 'success', at(-240)));
      const recent = [
        ...Array.from({ length: 43 }, (_, i) => command(`new-${i}`, 'SET_DRUM', 'success')),
        ...['SET_DRUM', 'SET_AIRFLOW', 'SET_FAN', 'SET_POWER'].map((type) =>
          command(`bad-${type}`, type, 'error'),
        ),
      ];
      const history = [
        ...enrolled('L4'),
        ...[...old, ...recent].map(
          (record): GovernanceEvent => ({
            type: 'CommandRecorded',
            data: { engineId: ENGINE, record, ingestId: `i-${record.commandId}` },
          }),
        ),
      ];
      expect(decide(history, { type: 'CheckBreakers', data: { engineId: ENGINE, now: NOW } })).toEqual([]);

      const events = decide(history, { type: 'CheckBreakers', data: { engineId: ENGINE, now: at(60) } });
      expect(events.map((e) => e.type)).toEqual(['BreakerTripped', 'PhaseChanged']);
      expect(events[0]?.data).toMatchObject({
        breakerEvent: {
          ruleId: 'high-error-rate',
          observed: { window: '5m', commands: 47, errorRate: 4 / 47 },
          trippedAt: at(60),
        },
      });
      expect(events[1]?.data).toMatchObject({ phase: 'L3', whitelist: [], cause: 'breaker' });
    });

    it('should withdraw a pending proposal when a breaker reverts the engine', () => {
      const history = [...enrolled('L4'), proposalCreated(proposal('L4', 'L4+'))];
      const events = decide(history, recordCmd(command('bad-1', 'SET_DRUM', 'error')));
      expect(events.map((e) => e.type)).toEqual([
        'CommandRecorded',
        'BreakerTripped',
        'ProposalRejected',
        'PhaseChanged',
      ]);
      expect(events[2]?.data).toMatchObject({ proposalId: 'p-1', by: GOVERNANCE_AGENT });
    });

    it('should revert to L3 on a critical incident', () => {
      const incident = { incidentId: 'inc-1', at: NOW, severity: 'critical' as const, summary: 'roast fire' };
      const events = decide(enrolled('L4'), {
        type: 'RecordIncident',
        data: { engineId: ENGINE, now: NOW, record: incident, ingestId: 'ii' },
      });
      expect(events.map((e) => e.type)).toEqual(['IncidentRecorded', 'BreakerTripped', 'PhaseChanged']);
      expect(events[1]?.data).toMatchObject({ breakerEvent: { ruleId: 'critical-incident' } });
    });

    it('should pause a command type after three failures and give it back when the event is resolved', () => {
      // Only the pause rule: the error-rate rule would revert first.
      const history = [...enrolled('L4'), ...disable('high-error-rate'), ...disable('high-rollback-rate')];
      const fails = [1, 2].map(
        (i) =>
          ({
            type: 'CommandRecorded',
            data: { engineId: ENGINE, record: command(`f${i}`, 'SET_DRUM', 'error'), ingestId: `f${i}` },
          }) as GovernanceEvent,
      );
      const events = decide([...history, ...fails], recordCmd(command('f3', 'SET_DRUM', 'error')));
      expect(events.map((e) => e.type)).toEqual([
        'CommandRecorded',
        'BreakerTripped',
        'CommandTypePaused',
        'PhaseChanged',
      ]);
      expect(events[2]?.data).toEqual({
        engineId: ENGINE,
        commandType: 'SET_DRUM',
        eventId: 'brk-1-repeated-command-failures-SET_DRUM',
        at: NOW,
      });
      expect(events[3]).toEqual(
        phaseChanged('L4', ['SET_AIRFLOW', 'SET_FAN', 'SET_POWER'], {
          reason: expect.stringContaining('paused SET_DRUM') as unknown as string,
          previousPhase: 'L4',
          cause: 'pause',
          causeId: 'brk-1-repeated-command-failures-SET_DRUM',
          at: NOW,
        }),
      );
      const paused = [...history, ...fails, ...events];
      const resolve = decide(paused, {
        type: 'ResolveBreakerEvent',
        data: {
          engineId: ENGINE,
          now: NOW,
          actor: alice,
          eventId: 'brk-1-repeated-command-failures-SET_DRUM',
          note: 'drum motor replaced',
        },
      });
      expect(resolve.map((e) => e.type)).toEqual(['BreakerResolved', 'CommandTypeResumed', 'PhaseChanged']);
      expect(resolve[2]?.data).toMatchObject({
        phase: 'L4',
        whitelist: whitelistOf(DEFAULT_PHASE_LADDER, 'L4'),
        cause: 'resume',
      });
    });

    it('should keep a command type paused while another open event pauses it, whichever is resolved first', () => {
      let history: GovernanceEvent[] = [
        ...enrolled('L4'),
        ...disable('high-error-rate'),
        ...disable('high-rollback-rate'),
      ];
      const step = (c: GovernanceCommand) => {
        const events = decide(history, c);
        history = [...history, ...events];
        return events;
      };
      const resolve = (eventId: string): GovernanceCommand => ({
        type: 'ResolveBreakerEvent',
        data: { engineId: ENGINE, now: at(10), actor: alice, eventId, note: 'looked at' },
      });
      step({
        type: 'UpdateBreakerRule',
        data: {
          engineId: ENGINE,
          now: NOW,
          actor: alice,
          reason: 'fan trouble',
          ruleId: 'fan-errors',
          name: 'Fan errors',
          condition: 'errors >= 2',
          window: '5m',
          action: 'pause_command_type',
          commandType: 'SET_FAN',
        },
      });
      // Two errors trip the operator's rule, the third the default one, on the same type.
      for (const i of [1, 2, 3]) step(recordCmd(command(`fan${i}`, 'SET_FAN', 'error', at(i))));
      const fanRule = 'brk-1-fan-errors-SET_FAN';
      const defaultRule = 'brk-2-repeated-command-failures-SET_FAN';
      expect(state(history).breakerEvents.map((e) => e.eventId)).toEqual([fanRule, defaultRule]);
      expect(state(history).paused).toEqual({ SET_FAN: fanRule });

      const first = step(resolve(fanRule));
      expect(first.map((e) => e.type)).toEqual(['BreakerResolved', 'CommandTypePaused']);
      expect(state(history).paused).toEqual({ SET_FAN: defaultRule });

      const second = step(resolve(defaultRule));
      expect(second.map((e) => e.type)).toEqual(['BreakerResolved', 'CommandTypeResumed', 'PhaseChanged']);
      expect(second[2]?.data).toMatchObject({ whitelist: whitelistOf(DEFAULT_PHASE_LADDER, 'L4') });
    });

    it('should not trip a resolved rule again on what it tripped on, however many other events were resolved since', () => {
      let history: GovernanceEvent[] = [
        ...enrolled('L4'),
        ...disable('high-error-rate'),
        ...disable('high-rollback-rate'),
      ];
      const step = (c: GovernanceCommand) => {
        history = [...history, ...decide(history, c)];
      };
      // An outage: three failures of each of 51 command types pause each of them.
      const types = ['SET_DRUM', ...Array.from({ length: 50 }, (_, i) => `TUNE_${i}`)];
      for (const type of types) {
        for (const i of [1, 2, 3]) step(recordCmd(command(`${type}-${i}`, type, 'error', at(i))));
      }
      // The operator resolves them all a minute later, more than the 50 resolved events kept.
      for (const e of state(history).breakerEvents) {
        step({
          type: 'ResolveBreakerEvent',
          data: { engineId: ENGINE, now: at(60), actor: alice, eventId: e.eventId, note: 'line restarted' },
        });
      }
      expect(state(history).breakerEvents.filter((e) => e.resolved === null)).toEqual([]);

      // The failures are still in the 5-minute window, all of them before the resolutions.
      expect(decide(history, { type: 'CheckBreakers', data: { engineId: ENGINE, now: at(120) } })).toEqual(
        [],
      );
      // An hour on, no window reaches back to them: the state keeps the last 50 again.
      for (const i of [1, 2, 3]) step(recordCmd(command(`late-${i}`, 'SET_FAN', 'error', at(3_700 + i))));
      expect(state(history).breakerEvents.map((e) => e.resolved === null)).toEqual([
        ...Array<boolean>(50).fill(false),
        true,
      ]);
    });

    it('should only alert on a high rollback rate', () => {
      const history = [
        ...enrolled('L4'),
        ...disable('high-error-rate'),
        ...disable('repeated-command-failures'),
        ...successes(5, 'SET_FAN'),
      ];
      const events = decide(history, recordCmd(command('rb', 'SET_FAN', 'rolled_back')));
      expect(events.map((e) => e.type)).toEqual(['CommandRecorded', 'BreakerTripped']);
      expect(state([...history, ...events])).toMatchObject({ phase: 'L4', paused: {} });
    });

    it('should refuse to resolve an unknown or resolved event', () => {
      const resolve: GovernanceCommand = {
        type: 'ResolveBreakerEvent',
        data: { engineId: ENGINE, now: NOW, actor: alice, eventId: 'brk-9', note: 'x' },
      };
      spec
        .given(enrolled('L4'))
        .when(resolve)
        .thenThrows(NotFoundError, codeIs('GOVERNANCE.BREAKER_EVENT_NOT_FOUND'));
    });
  });

  describe('Given an engine already at L3 with a pending L3 → L3+ proposal', () => {
    const pending = [...enrolled('L3'), proposalCreated(l3PlusProposal())];
    const approveAsAlice: GovernanceCommand = {
      type: 'ApproveProposal',
      data: { engineId: ENGINE, now: NOW, actor: alice, proposalId: 'p-1' },
    };
    const withdrawn = (eventId: string): GovernanceEvent => ({
      type: 'ProposalRejected',
      data: {
        engineId: ENGINE,
        proposalId: 'p-1',
        by: GOVERNANCE_AGENT,
        reason: expect.stringContaining(`tripped (${eventId})`) as unknown as string,
        at: NOW,
      },
    });

    it('should withdraw the proposal when a critical incident trips its revert_to_l3 breaker, though there is nothing to revert', () => {
      const incident = { incidentId: 'inc-1', at: NOW, severity: 'critical' as const, summary: 'roast fire' };
      const events = decide(pending, {
        type: 'RecordIncident',
        data: { engineId: ENGINE, now: NOW, record: incident, ingestId: 'ii' },
      });
      expect(events.map((e) => e.type)).toEqual(['IncidentRecorded', 'BreakerTripped', 'ProposalRejected']);
      expect(events[2]).toEqual(withdrawn('brk-1-critical-incident'));
      spec
        .given([...pending, ...events])
        .when(approveAsAlice)
        .thenThrows(IllegalStateError, codeIs('GOVERNANCE.PROPOSAL_NOT_PENDING'));
    });

    it('should withdraw the proposal when an alert_only breaker trips (an open event blocks expansion)', () => {
      const history = [
        ...pending,
        ...disable('high-error-rate'),
        ...disable('repeated-command-failures'),
        ...successes(5, 'SET_FAN'),
      ];
      const events = decide(history, recordCmd(command('rb', 'SET_FAN', 'rolled_back')));
      expect(events.map((e) => e.type)).toEqual(['CommandRecorded', 'BreakerTripped', 'ProposalRejected']);
      expect(events[2]).toEqual(withdrawn('brk-1-high-rollback-rate'));
    });

    it('should withdraw the proposal when a pause_command_type breaker trips', () => {
      const history = [...pending, ...disable('high-error-rate'), ...disable('high-rollback-rate')];
      const fails = [1, 2].map(
        (i): GovernanceEvent => ({
          type: 'CommandRecorded',
          data: { engineId: ENGINE, record: command(`f${i}`, 'SET_DRUM', 'error'), ingestId: `f${i}` },
        }),
      );
      const events = decide([...history, ...fails], recordCmd(command('f3', 'SET_DRUM', 'error')));
      expect(events.map((e) => e.type)).toEqual([
        'CommandRecorded',
        'BreakerTripped',
        'ProposalRejected',
        'CommandTypePaused',
      ]);
      expect(events[2]).toEqual(withdrawn('brk-1-repeated-command-failures-SET_DRUM'));
    });

    describe('When a breaker event is open beside it (a stream written before trips withdrew proposals)', () => {
      const open = [
        ...enrolled('L3'),
        breakerTripped('brk-1-critical-incident'),
        proposalCreated(l3PlusProposal()),
      ];

      it('should refuse every approval until the event is resolved', () => {
        spec
          .given(open)
          .when(approveAsAlice)
          .thenThrows(IllegalStateError, codeIs('GOVERNANCE.UNRESOLVED_BREAKER_EVENTS'));
      });

      it('should take the approval once the event is resolved, and move the engine to L3+', () => {
        const resolved: GovernanceEvent = {
          type: 'BreakerResolved',
          data: {
            engineId: ENGINE,
            eventId: 'brk-1-critical-incident',
            actor: bob,
            note: 'fire drill',
            resolvedAt: NOW,
          },
        };
        expect(decide([...open, resolved], approveAsAlice).map((e) => e.type)).toEqual([
          'ProposalApprovalRecorded',
          'ProposalApproved',
          'PhaseChanged',
        ]);
      });
    });

    describe('When an operator changes the ladder', () => {
      const ladder = DEFAULT_PHASE_LADDER.map((r) =>
        r.phase === 'L3+'
          ? { ...r, additions: ['SET_POWER'], requiredApprovals: ['tech_lead', 'ops_lead'] as ApproverRole[] }
          : r,
      );
      const configure: GovernanceCommand = {
        type: 'ConfigureLadder',
        data: { engineId: ENGINE, now: NOW, actor: alice, ladder, reason: 'fan firmware recalled' },
      };

      it('should withdraw the proposal, saying why, so that the next cycle proposes against the new ladder', () => {
        spec
          .given(pending)
          .when(configure)
          .then([
            {
              type: 'LadderConfigured',
              data: {
                engineId: ENGINE,
                ladder,
                previous: DEFAULT_PHASE_LADDER,
                actor: alice,
                reason: 'fan firmware recalled',
                at: NOW,
              },
            },
            {
              type: 'ProposalRejected',
              data: {
                engineId: ENGINE,
                proposalId: 'p-1',
                by: GOVERNANCE_AGENT,
                reason:
                  'withdrawn: the ladder changed (fan firmware recalled); the next cycle proposes against the new one',
                at: NOW,
              },
            },
          ]);
      });

      it('should refuse to approve a proposal whose whitelist the ladder no longer gives (a stream written before ladder changes withdrew proposals)', () => {
        const changed = decide(pending, configure).filter((e) => e.type === 'LadderConfigured');
        spec
          .given([...pending, ...changed])
          .when(approveAsAlice)
          .thenThrows(IllegalStateError, codeIs('GOVERNANCE.PROPOSAL_STALE'));
      });
    });
  });

  describe('Given an engine at L3+ and a ladder change not allowed to widen (an admin over HTTP)', () => {
    const atL3Plus = enrolled('L3+');
    const configure = (ladder: typeof DEFAULT_PHASE_LADDER, allowWidening?: boolean): GovernanceCommand => ({
      type: 'ConfigureLadder',
      data: {
        engineId: ENGINE,
        now: NOW,
        actor: alice,
        ladder,
        reason: 'ladder review',
        ...(allowWidening === undefined ? {} : { allowWidening }),
      },
    });
    // SET_DRUM moves from L4 down to L3+: autonomous at once for an engine at L3+.
    const widening = DEFAULT_PHASE_LADDER.map((r) =>
      r.phase === 'L3+'
        ? { ...r, additions: [...r.additions, 'SET_DRUM'] }
        : r.phase === 'L4'
          ? { ...r, additions: r.additions.filter((c) => c !== 'SET_DRUM') }
          : r,
    );

    it("should refuse a ladder that whitelists more at the engine's phase, naming what it adds", () => {
      spec
        .given(atL3Plus)
        .when(configure(widening, false))
        .thenThrows(
          ForbiddenError,
          (e) =>
            e.code === 'GOVERNANCE.LADDER_WIDENS' &&
            /whitelists SET_DRUM at the engine's phase L3\+/.test(e.message) &&
            JSON.stringify(e.details) === JSON.stringify({ phase: 'L3+', added: ['SET_DRUM'] }),
        );
    });

    it('should take the same ladder from an owner (allowed to widen), or when nobody said (NATS)', () => {
      for (const allowed of [true, undefined]) {
        expect(decide(atL3Plus, configure(widening, allowed)).map((e) => e.type)).toEqual([
          'LadderConfigured',
          'PhaseChanged',
        ]);
      }
    });

    it('should take a ladder that narrows the phase, or widens only phases above it', () => {
      const narrowing = DEFAULT_PHASE_LADDER.map((r) =>
        r.phase === 'L3+' ? { ...r, additions: ['SET_POWER'] } : r,
      );
      const aboveOnly = DEFAULT_PHASE_LADDER.map((r) =>
        r.phase === 'L4' ? { ...r, additions: [...r.additions, 'CALIBRATE'] } : r,
      );
      for (const ladder of [narrowing, aboveOnly]) {
        expect(decide(atL3Plus, configure(ladder, false)).map((e) => e.type)).toContain('LadderConfigured');
      }
    });
  });

  describe('Given a pending L4 → L4+ proposal (tech, ops and product lead)', () => {
    const pending = [
      ...enrolled('L4'),
      proposalCreated(proposal('L4', 'L4+', ['tech_lead', 'ops_lead', 'product_lead'])),
    ];
    const approve = (actor: Actor, extra: { role?: ApproverRole; now?: string } = {}): GovernanceCommand => ({
      type: 'ApproveProposal',
      data: {
        engineId: ENGINE,
        now: extra.now ?? NOW,
        actor,
        proposalId: 'p-1',
        ...(extra.role ? { role: extra.role } : {}),
      },
    });

    it('should record one approval per distinct principal and role', () => {
      spec
        .given(pending)
        .when(approve(alice))
        .then([
          {
            type: 'ProposalApprovalRecorded',
            data: {
              engineId: ENGINE,
              proposalId: 'p-1',
              approver: alice,
              role: 'tech_lead',
              outstanding: ['ops_lead', 'product_lead'],
              at: NOW,
            },
          },
        ]);
    });

    it('should move the engine to L4+ once every required role approved', () => {
      const events = decide(
        [...pending, ...decide(pending, approve(alice)), ...approvalOf(bob, 'ops_lead', ['product_lead'])],
        approve({ kind: 'operator', id: 'dave' }),
      );
      expect(events.map((e) => e.type)).toEqual([
        'ProposalApprovalRecorded',
        'ProposalApproved',
        'PhaseChanged',
      ]);
      expect(events[1]?.data).toMatchObject({
        targetPhase: 'L4+',
        approvals: [
          { principalId: 'alice', role: 'tech_lead' },
          { principalId: 'bob', role: 'ops_lead' },
          { principalId: 'dave', role: 'product_lead' },
        ],
      });
      expect(events[2]?.data).toMatchObject({
        phase: 'L4+',
        previousPhase: 'L4',
        cause: 'proposal',
        causeId: 'p-1',
        whitelist: whitelistOf(DEFAULT_PHASE_LADDER, 'L4+'),
      });
    });

    it('should refuse an approval once the engine has left L4, the phase the proposal starts from (PROPOSAL_STALE)', () => {
      // A stream written before breaker trips withdrew proposals: a revert to L3 left it pending.
      const reverted = [
        ...pending,
        phaseChanged('L3', [], {
          reason: 'breaker',
          previousPhase: 'L4',
          cause: 'breaker',
          causeId: 'brk-1-critical-incident',
          at: NOW,
        }),
      ];
      spec
        .given(reverted)
        .when(approve(alice))
        .thenThrows(
          IllegalStateError,
          (e) => e.code === 'GOVERNANCE.PROPOSAL_STALE' && e.message.includes('the engine left L4'),
        );
    });

    it('should not let one principal sign two roles', () => {
      spec
        .given([...pending, ...approvalOf(bob, 'tech_lead', ['ops_lead', 'product_lead'])])
        .when(approve(bob, { role: 'ops_lead' }))
        .thenThrows(IllegalStateError, codeIs('GOVERNANCE.ALREADY_APPROVED'));
    });

    it('should refuse a principal without an outstanding role', () => {
      spec
        .given([...pending, ...approvalOf(alice, 'tech_lead', ['ops_lead', 'product_lead'])])
        .when(approve({ kind: 'operator', id: 'erin' }))
        .thenThrows(ForbiddenError, codeIs('GOVERNANCE.NOT_AN_APPROVER'));
      spec
        .given([...pending, ...approvalOf(alice, 'tech_lead', ['ops_lead', 'product_lead'])])
        .when(approve(bob, { role: 'tech_lead' }))
        .thenThrows(IllegalStateError, codeIs('GOVERNANCE.ROLE_NOT_OUTSTANDING'));
      // Without naming the role: the one they hold is signed already, a conflict.
      spec
        .given([
          ...pending,
          ...approvalOf(alice, 'tech_lead', ['ops_lead', 'product_lead']),
          ...approvalOf(bob, 'ops_lead', ['product_lead']),
        ])
        .when(approve(carol))
        .thenThrows(IllegalStateError, codeIs('GOVERNANCE.ROLE_NOT_OUTSTANDING'));
      spec
        .given(pending)
        .when(approve(carol, { role: 'tech_lead' }))
        .thenThrows(ForbiddenError, codeIs('GOVERNANCE.ROLE_NOT_HELD'));
    });

    it('should refuse approvals by engines and by the operator who proposed it', () => {
      spec
        .given(pending)
        .when(approve({ kind: 'engine', id: ENGINE }))
        .thenThrows(ForbiddenError, codeIs('GOVERNANCE.OPERATOR_ONLY'));
      const own = [...enrolled('L4'), proposalCreated({ ...proposal('L4', 'L4+'), proposedBy: alice })];
      spec.given(own).when(approve(alice)).thenThrows(ForbiddenError, codeIs('GOVERNANCE.SELF_APPROVAL'));
    });

    it('should close on a rejection by any required approver', () => {
      const reject = (actor: Actor): GovernanceCommand => ({
        type: 'RejectProposal',
        data: { engineId: ENGINE, now: NOW, actor, proposalId: 'p-1', reason: 'not yet' },
      });
      spec
        .given(pending)
        .when(reject(carol))
        .then([
          {
            type: 'ProposalRejected',
            data: { engineId: ENGINE, proposalId: 'p-1', by: carol, reason: 'not yet', at: NOW },
          },
        ]);
      spec
        .given(pending)
        .when(reject({ kind: 'operator', id: 'erin' }))
        .thenThrows(ForbiddenError, codeIs('GOVERNANCE.NOT_AN_APPROVER'));
      spec
        .given([
          ...pending,
          {
            type: 'ProposalRejected',
            data: { engineId: ENGINE, proposalId: 'p-1', by: carol, reason: 'not yet', at: NOW },
          },
        ])
        .when(approve(alice))
        .thenThrows(IllegalStateError, codeIs('GOVERNANCE.PROPOSAL_NOT_PENDING'));
    });

    it('should expire at its expiry and refuse approvals after it', () => {
      const expiry = proposal('L4', 'L4+').expiresAt;
      spec
        .given(pending)
        .when({ type: 'ExpireProposals', data: { engineId: ENGINE, now: addDays(expiry, -1) } })
        .thenNothingHappened();
      spec
        .given(pending)
        .when({ type: 'ExpireProposals', data: { engineId: ENGINE, now: expiry } })
        .then([{ type: 'ProposalExpired', data: { engineId: ENGINE, proposalId: 'p-1', at: expiry } }]);
      spec
        .given(pending)
        .when(approve(alice, { now: expiry }))
        .thenThrows(IllegalStateError, codeIs('GOVERNANCE.PROPOSAL_EXPIRED'));
      spec
        .given(pending)
        .when({ ...approve(alice), data: { ...approve(alice).data, proposalId: 'p-9' } } as GovernanceCommand)
        .thenThrows(NotFoundError, codeIs('GOVERNANCE.PROPOSAL_NOT_FOUND'));
    });
  });
});

describe('Engine governance: an append cut short after its first events', () => {
  const check: GovernanceCommand = { type: 'CheckBreakers', data: { engineId: ENGINE, now: at(60) } };
  const criticalIncident: GovernanceCommand = {
    type: 'RecordIncident',
    data: {
      engineId: ENGINE,
      now: NOW,
      record: { incidentId: 'inc-1', at: NOW, severity: 'critical', summary: 'roast fire' },
      ingestId: 'ii',
    },
  };
  /** `history` plus what `c` decides, but only its first `kept` events stored. */
  const cutShort = (history: GovernanceEvent[], c: GovernanceCommand, kept: number) => [
    ...history,
    ...decide(history, c).slice(0, kept),
  ];
  /** What the next check completes, and that the check after it finds nothing left. */
  const completed = (history: GovernanceEvent[]) => {
    const events = decide(history, check);
    expect(decide([...history, ...events], check)).toEqual([]);
    return events;
  };

  it('should revert to L3 when the breaker trip was stored without its phase change', () => {
    const history = cutShort(enrolled('L4'), criticalIncident, 2);
    expect(history.at(-1)?.type).toBe('BreakerTripped');

    const events = completed(history);
    expect(events.map((e) => e.type)).toEqual(['PhaseChanged']);
    expect(events[0]?.data).toMatchObject({
      phase: 'L3',
      previousPhase: 'L4',
      cause: 'breaker',
      causeId: 'brk-1-critical-incident',
    });
  });

  it('should pause the command type when the breaker trip was stored without the pause', () => {
    const history = [...enrolled('L4'), ...disable('high-error-rate'), ...disable('high-rollback-rate')];
    for (const i of [1, 2])
      history.push(...decide(history, recordCmd(command(`f${i}`, 'SET_DRUM', 'error'))));
    const cut = cutShort(history, recordCmd(command('f3', 'SET_DRUM', 'error')), 2);

    const events = completed(cut);
    expect(events.map((e) => e.type)).toEqual(['CommandTypePaused', 'PhaseChanged']);
    expect(events[0]?.data).toMatchObject({
      commandType: 'SET_DRUM',
      eventId: 'brk-1-repeated-command-failures-SET_DRUM',
    });
    expect(events[1]?.data).toMatchObject({ phase: 'L4', cause: 'pause' });
    expect((events[1]?.data as { whitelist: string[] }).whitelist).not.toContain('SET_DRUM');

    // And the resolution stored without the resume: the type comes back.
    const paused = [...cut, ...events];
    const resolved = cutShort(
      paused,
      {
        type: 'ResolveBreakerEvent',
        data: {
          engineId: ENGINE,
          now: at(30),
          actor: alice,
          eventId: 'brk-1-repeated-command-failures-SET_DRUM',
          note: 'drum motor replaced',
        },
      },
      1,
    );
    const resumed = completed(resolved);
    expect(resumed.map((e) => e.type)).toEqual(['CommandTypeResumed', 'PhaseChanged']);
    expect(resumed[1]?.data).toMatchObject({
      cause: 'resume',
      whitelist: whitelistOf(DEFAULT_PHASE_LADDER, 'L4'),
    });
  });

  it('should enter the target phase when the approval was stored without its phase change', () => {
    const pending = [...enrolled('L3'), proposalCreated(l3PlusProposal())];
    const history = cutShort(
      pending,
      { type: 'ApproveProposal', data: { engineId: ENGINE, now: NOW, actor: alice, proposalId: 'p-1' } },
      2,
    );
    expect(history.at(-1)?.type).toBe('ProposalApproved');

    const events = completed(history);
    expect(events.map((e) => e.type)).toEqual(['PhaseChanged']);
    expect(events[0]?.data).toMatchObject({
      phase: 'L3+',
      previousPhase: 'L3',
      cause: 'proposal',
      causeId: 'p-1',
      whitelist: l3PlusProposal().whitelist,
    });
  });

  it('should not enter the target phase of an approval stored without its phase change once the ladder gives it another whitelist', () => {
    const pending = [...enrolled('L3'), proposalCreated(l3PlusProposal())];
    const history = cutShort(
      pending,
      { type: 'ApproveProposal', data: { engineId: ENGINE, now: NOW, actor: alice, proposalId: 'p-1' } },
      2,
    );
    // Above the engine's phase: a change an admin may make without widening what it runs now.
    const widened = DEFAULT_PHASE_LADDER.map((r) =>
      r.phase === 'L3+' ? { ...r, additions: [...r.additions, 'CALIBRATE'] } : r,
    );
    history.push(
      ...decide(history, {
        type: 'ConfigureLadder',
        data: {
          engineId: ENGINE,
          now: at(1),
          actor: alice,
          ladder: widened,
          reason: 'r',
          allowWidening: false,
        },
      }),
    );

    // The approvers signed L3+ with [SET_FAN, SET_POWER], not CALIBRATE too.
    expect(decide(history, check)).toEqual([]);
  });

  describe('Given an approval to L3+, then a critical incident decided at an earlier or the same instant', () => {
    const pending = [...enrolled('L3'), proposalCreated(l3PlusProposal())];
    const approval: GovernanceCommand = {
      type: 'ApproveProposal',
      data: { engineId: ENGINE, now: NOW, actor: alice, proposalId: 'p-1' },
    };
    const approved = [...pending, ...decide(pending, approval)];
    /** A record timed `seconds` after the approval (before it when negative: it waited for the engine's lock), decided after it. */
    const incidentAt = (seconds: number): GovernanceCommand => ({
      type: 'RecordIncident',
      data: {
        engineId: ENGINE,
        now: at(seconds),
        record: { incidentId: 'inc-1', at: at(seconds), severity: 'critical', summary: 'roast fire' },
        ingestId: 'ii',
      },
    });

    it.each([
      ['timed before it', -1, false],
      ['timed at the same instant, once its event is resolved', 0, true],
    ])('should not undo the revert to L3 of a record %s', (_why, seconds, resolve) => {
      const reverted = [...approved, ...decide(approved, incidentAt(seconds))];
      expect(state(reverted).phase).toBe('L3');
      if (resolve) {
        const resolution: GovernanceCommand = {
          type: 'ResolveBreakerEvent',
          data: {
            engineId: ENGINE,
            now: at(30),
            actor: alice,
            eventId: 'brk-1-critical-incident',
            note: 'ok',
          },
        };
        reverted.push(...decide(reverted, resolution));
      }

      // A revert to L3 stays, resolved or not: only a new approved proposal raises the phase again.
      expect(decide(reverted, check)).toEqual([]);
    });

    it('should enter L3+ once when the approval was stored without its phase change, and stay at L3 after the revert', () => {
      const history = cutShort(pending, approval, 2);
      const recorded = decide(history, incidentAt(-1));
      // The record's breaker check completes the approval first; then its trip reverts.
      expect(recorded.map((e) => [e.type, 'phase' in e.data ? e.data.phase : undefined])).toEqual([
        ['IncidentRecorded', undefined],
        ['PhaseChanged', 'L3+'],
        ['BreakerTripped', undefined],
        ['PhaseChanged', 'L3'],
      ]);

      expect(decide([...history, ...recorded], check)).toEqual([]);
    });

    it('should revert to L3 when the trip of a record timed before it was stored without its phase change', () => {
      const history = cutShort(approved, incidentAt(-1), 2);
      expect(history.at(-1)?.type).toBe('BreakerTripped');

      const events = completed(history);
      expect(events.map((e) => e.type)).toEqual(['PhaseChanged']);
      expect(events[0]?.data).toMatchObject({
        phase: 'L3',
        previousPhase: 'L3+',
        cause: 'breaker',
        causeId: 'brk-1-critical-incident',
      });
    });
  });

  it('should complete nothing on a history that was stored whole', () => {
    const reverted = cutShort(enrolled('L4'), criticalIncident, 9);
    expect(decide(reverted, check)).toEqual([]);
  });
});

describe('Approvers directory', () => {
  const directory = DeciderSpecification.for(approversDecider);
  const assign = (roles: ApproverRole[], actor: Actor = alice) =>
    ({
      type: 'AssignApproverRoles',
      data: { principalId: 'bob', roles, actor, reason: 'org chart', now: NOW },
    }) as const;

  it('should assign roles, sorted, and change nothing when they are the same', () => {
    directory.when(assign(['ops_lead', 'tech_lead'])).then([
      {
        type: 'ApproverRolesAssigned',
        data: {
          principalId: 'bob',
          roles: ['ops_lead', 'tech_lead'],
          previous: [],
          actor: alice,
          reason: 'org chart',
          at: NOW,
        },
      },
    ]);
    directory
      .given([
        {
          type: 'ApproverRolesAssigned',
          data: { principalId: 'bob', roles: ['ops_lead'], previous: [], actor: alice, reason: 'x', at: NOW },
        },
      ])
      .when(assign(['ops_lead']))
      .thenNothingHappened();
  });

  it('should refuse engines', () => {
    directory.when(assign(['ops_lead'], { kind: 'engine', id: 'e' })).thenThrows(ForbiddenError);
  });

  it('should refuse an operator giving itself a role, and let it give its roles up', () => {
    const bob: Actor = { kind: 'operator', id: 'bob' };
    const holdsOps: ApproversEvent = {
      type: 'ApproverRolesAssigned',
      data: { principalId: 'bob', roles: ['ops_lead'], previous: [], actor: alice, reason: 'x', at: NOW },
    };
    directory
      .given([holdsOps])
      .when(assign(['ops_lead', 'tech_lead'], bob))
      .thenThrows(ForbiddenError, codeIs('GOVERNANCE.SELF_ASSIGNMENT_FORBIDDEN'));
    directory
      .given([holdsOps])
      .when(assign([], bob))
      .then([
        {
          type: 'ApproverRolesAssigned',
          data: {
            principalId: 'bob',
            roles: [],
            previous: ['ops_lead'],
            actor: bob,
            reason: 'org chart',
            at: NOW,
          },
        },
      ]);
  });
});

// ── fixtures ──────────────────────────────────────────────────────────────────────────────────

function codeIs(code: string) {
  return (error: { code: string }) => error.code === code;
}

function command(
  commandId: string,
  commandType: string,
  outcome: CommandRecord['outcome'],
  at = NOW,
): CommandRecord {
  return { commandId, commandType, at, outcome, requiredApproval: false };
}

/** `seconds` after {@link NOW}. */
function at(seconds: number): string {
  return new Date(Date.parse(NOW) + seconds * 1000).toISOString();
}

function recordCmd(record: CommandRecord): GovernanceCommand {
  return {
    type: 'RecordCommand',
    data: { engineId: ENGINE, now: record.at, record, ingestId: `i-${record.commandId}` },
  };
}

function successes(n: number, commandType: string): GovernanceEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'CommandRecorded',
    data: {
      engineId: ENGINE,
      record: command(`ok-${commandType}-${i}`, commandType, 'success'),
      ingestId: `ok${i}`,
    },
  }));
}

function enrolledEvent(
  phase: AutonomyPhase,
  since: string,
  actor: Actor,
  reason = `enrolled at ${phase}`,
): GovernanceEvent {
  return {
    type: 'EngineEnrolled',
    data: {
      engineId: ENGINE,
      phase,
      phaseSince: since,
      ladder: DEFAULT_PHASE_LADDER,
      rules: DEFAULT_BREAKER_RULES.map((r) => ({ ...r })),
      actor,
      reason,
      at: NOW,
    },
  };
}

function phaseChanged(
  phase: AutonomyPhase,
  whitelist: string[],
  extra: Record<string, unknown>,
): GovernanceEvent {
  return { type: 'PhaseChanged', data: { engineId: ENGINE, phase, whitelist, ...extra } as never };
}

function enroll(phase: AutonomyPhase, phaseSince: string): GovernanceCommand {
  return {
    type: 'EnrollEngine',
    data: { engineId: ENGINE, now: NOW, actor: alice, phase, phaseSince, reason: 'roaster line 1' },
  };
}

function enrolled(phase: AutonomyPhase, since = addDays(NOW, -200)): GovernanceEvent[] {
  return [
    {
      ...enrolledEvent(phase, since, alice),
      data: { ...enrolledEvent(phase, since, alice).data, at: since },
    } as GovernanceEvent,
    phaseChanged(phase, whitelistOf(DEFAULT_PHASE_LADDER, phase), {
      reason: 'initial',
      previousPhase: null,
      cause: 'initial',
      at: since,
    }),
  ];
}

function disable(ruleId: string): GovernanceEvent[] {
  const rule = DEFAULT_BREAKER_RULES.find((r) => r.ruleId === ruleId);
  if (!rule) throw new Error(ruleId);
  return [
    {
      type: 'BreakerRuleUpdated',
      data: {
        engineId: ENGINE,
        rule: { ...rule, enabled: false },
        previous: { ...rule },
        actor: alice,
        reason: 'spec',
        at: NOW,
      },
    },
  ];
}

function proposal(
  from: AutonomyPhase,
  to: AutonomyPhase,
  roles: ApproverRole[] = ['tech_lead', 'ops_lead', 'product_lead'],
): Proposal {
  return {
    proposalId: 'p-1',
    fromPhase: from,
    targetPhase: to,
    whitelistAdditions: ['PREHEAT', 'COOLING_CYCLE'],
    whitelist: whitelistOf(DEFAULT_PHASE_LADDER, to),
    validationPeriodDays: 30,
    achievements: [],
    riskAssessment: { level: 'high', factors: [], mitigations: [] },
    requiredApprovals: roles,
    reportId: 'r-1',
    proposedBy: GOVERNANCE_AGENT,
    createdAt: NOW,
    expiresAt: addDays(NOW, 14),
  };
}

function l3PlusProposal(): Proposal {
  return {
    ...proposal('L3', 'L3+', ['tech_lead']),
    whitelistAdditions: ['SET_POWER', 'SET_FAN'],
    whitelist: whitelistOf(DEFAULT_PHASE_LADDER, 'L3+'),
    validationPeriodDays: 14,
  };
}

function breakerTripped(eventId: string): GovernanceEvent {
  return {
    type: 'BreakerTripped',
    data: {
      engineId: ENGINE,
      breakerEvent: {
        eventId,
        ruleId: 'critical-incident',
        ruleName: 'Critical Incident',
        condition: 'severity == critical',
        window: '1m',
        action: 'revert_to_l3',
        observed: {},
        explanation: 'roast fire',
        trippedAt: NOW,
      },
    },
  };
}

function proposalCreated(p: Proposal): GovernanceEvent {
  return { type: 'ProposalCreated', data: { engineId: ENGINE, proposal: p } };
}

function approvalOf(actor: Actor, role: ApproverRole, outstanding: ApproverRole[]): GovernanceEvent[] {
  return [
    {
      type: 'ProposalApprovalRecorded',
      data: { engineId: ENGINE, proposalId: 'p-1', approver: actor, role, outstanding, at: NOW },
    },
  ];
}

function state(history: readonly GovernanceEvent[]): EnrolledGovernance {
  return fold(governanceDecider, history) as EnrolledGovernance;
}

function decide(history: readonly GovernanceEvent[], c: GovernanceCommand): GovernanceEvent[] {
  return governanceDecider.decide(c, state(history), approvers);
}
