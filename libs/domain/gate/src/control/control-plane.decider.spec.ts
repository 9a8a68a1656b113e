import type { Actor, GoLiveChecklistItem } from '@bifrost/contracts';
import {
  DeciderSpecification,
  ForbiddenError,
  IllegalStateError,
  ValidationError,
  fold,
} from '@bifrost/event-sourcing';
import { controlPlane } from './control-plane.decider';
import type { ControlCommand, ControlEvent } from './control-plane.events';
import { engineModeOf, executionClassOf, initialControlState, policySnapshot } from './control-plane.state';

// Fixture constants live here rather than at the bottom: describe bodies run at collection time.
const OPERATOR: Actor = { kind: 'operator', id: 'ops-alice' };
const SYSTEM: Actor = { kind: 'system', id: 'tripwire' };
const CANARY: Actor = { kind: 'system', id: 'canary' };
const ENGINE: Actor = { kind: 'engine', id: 'bot-a' };
const T0 = '2026-03-01T10:00:00.000Z';
const T1 = '2026-03-01T10:05:00.000Z';
const T1b = '2026-03-01T10:10:00.000Z';
const T2 = '2026-03-01T11:00:00.000Z';
const T3 = '2026-03-01T12:00:00.000Z';

const spec = DeciderSpecification.for(controlPlane);

describe('Control plane', () => {
  describe('Go-live', () => {
    describe('When nothing has happened yet', () => {
      it('should be off', () => {
        expect(initialControlState().goLive.enabled).toBe(false);
      });

      it('should refuse to enable, listing every checklist item as failing (unknown = not passed)', () => {
        spec
          .when(enableGoLive())
          .then([goLiveRefused(['riskPoliciesPresent', 'canaryHealthy', 'auditChainVerified'])]);
      });
    });

    describe('When two of three checklist items have passed', () => {
      it('should refuse to enable and list only the missing item', () => {
        spec
          .given([factRecorded('riskPoliciesPresent', true), factRecorded('canaryHealthy', true)])
          .when(enableGoLive())
          .then([goLiveRefused(['auditChainVerified'])]);
      });
    });

    describe('When an item passed and was then reported failing', () => {
      it('should refuse to enable: the latest report wins', () => {
        spec
          .given([...allPassed(), factRecorded('canaryHealthy', false, T1)])
          .when(enableGoLive())
          .then([goLiveRefused(['canaryHealthy'])]);
      });
    });

    describe('When every checklist item has passed', () => {
      it('should enable go-live', () => {
        spec.given(allPassed()).when(enableGoLive()).then([goLiveEnabled()]);
      });

      it('should refuse a system actor with an IllegalStateError', () => {
        spec
          .given(allPassed())
          .when(enableGoLive(SYSTEM))
          .thenThrows(IllegalStateError, (e) => e.code === 'GATE.OPERATOR_REQUIRED');
      });
    });

    describe('When go-live is on', () => {
      it('should do nothing on a second enable', () => {
        spec
          .given([...allPassed(), goLiveEnabled()])
          .when(enableGoLive())
          .thenNothingHappened();
      });

      it('should stay on when a checklist fact turns false', () => {
        const state = fold(controlPlane, [
          ...allPassed(),
          goLiveEnabled(),
          factRecorded('canaryHealthy', false, T1),
        ]);
        expect(state.goLive.enabled).toBe(true);
        expect(state.checklist.canaryHealthy?.passed).toBe(false);
      });

      it('should disable, also when automation asks (tightening)', () => {
        spec
          .given([...allPassed(), goLiveEnabled()])
          .when(disableGoLive(SYSTEM))
          .then([goLiveDisabled(SYSTEM)]);
      });
    });

    describe('When go-live is off', () => {
      it('should do nothing on disable', () => {
        spec.when(disableGoLive()).thenNothingHappened();
      });
    });
  });

  describe('Checklist facts', () => {
    describe('When no fact is known', () => {
      it('should record a report with its evidence', () => {
        spec
          .when(recordFact('auditChainVerified', true, { evidence: 'verified up to seq 1042' }))
          .then([factRecorded('auditChainVerified', true, T0, { evidence: 'verified up to seq 1042' })]);
      });

      it('should refuse a fact reported by an engine', () => {
        spec
          .when(recordFact('canaryHealthy', true, { actor: ENGINE }))
          .thenThrows(IllegalStateError, (e) => e.code === 'GATE.ENGINE_NOT_ALLOWED');
      });
    });

    describe('When the same fact was already reported', () => {
      it('should do nothing on an identical report', () => {
        spec
          .given([factRecorded('canaryHealthy', true)])
          .when(recordFact('canaryHealthy', true, { now: T1 }))
          .thenNothingHappened();
      });

      it('should record a report with new evidence', () => {
        spec
          .given([factRecorded('canaryHealthy', true)])
          .when(recordFact('canaryHealthy', true, { now: T1, evidence: 'probe run 7' }))
          .then([factRecorded('canaryHealthy', true, T1, { evidence: 'probe run 7' })]);
      });
    });
  });

  describe('Kill switch', () => {
    describe('When no kill switch is engaged', () => {
      it('should engage the global switch with its cause', () => {
        spec
          .when(engage({ mode: 'soft', actor: SYSTEM, cause: 'tripwire-event-1' }))
          .then([engaged({ mode: 'soft', actor: SYSTEM, cause: 'tripwire-event-1' })]);
      });

      it('should engage an engine switch', () => {
        spec
          .when(engage({ mode: 'hard', engineId: 'bot-a' }))
          .then([engaged({ mode: 'hard', engineId: 'bot-a' })]);
      });

      it('should do nothing on release', () => {
        spec.when(release()).thenNothingHappened();
      });
    });

    describe('When the global switch is engaged soft', () => {
      const history = [engaged({ mode: 'soft' })];

      it('should do nothing when engaged soft again', () => {
        spec
          .given(history)
          .when(engage({ mode: 'soft', actor: SYSTEM }))
          .thenNothingHappened();
      });

      it('should escalate to hard, also from automation', () => {
        spec
          .given(history)
          .when(engage({ mode: 'hard', actor: SYSTEM }))
          .then([engaged({ mode: 'hard', actor: SYSTEM })]);
      });

      it('should release when an operator asks', () => {
        spec.given(history).when(release()).then([released()]);
      });

      it('should refuse a release by the system with an IllegalStateError', () => {
        spec
          .given(history)
          .when(release({ actor: SYSTEM }))
          .thenThrows(IllegalStateError, (e) => e.code === 'GATE.OPERATOR_REQUIRED');
      });

      it('should refuse a release by an engine', () => {
        spec
          .given(history)
          .when(release({ actor: ENGINE }))
          .thenThrows(IllegalStateError);
      });

      it('should leave the global switch alone when an engine switch is released', () => {
        spec
          .given(history)
          .when(release({ engineId: 'bot-a' }))
          .thenNothingHappened();
      });
    });

    describe('When the global switch is engaged hard', () => {
      const history = [engaged({ mode: 'hard' })];

      it('should keep hard when automation asks for soft', () => {
        spec
          .given(history)
          .when(engage({ mode: 'soft', actor: SYSTEM }))
          .thenNothingHappened();
      });

      it('should downgrade to soft when an operator asks', () => {
        spec
          .given(history)
          .when(engage({ mode: 'soft' }))
          .then([engaged({ mode: 'soft' })]);
      });

      it('should refuse a soft engage from an operator who may not loosen, and keep it hard', () => {
        const softer = engage({ mode: 'soft' });
        spec
          .given(history)
          .when({ ...softer, data: { ...softer.data, mayNotLoosen: true } } as ControlCommand)
          .thenThrows(ForbiddenError, (e) => e.code === 'GATE.SOFTENING_FORBIDDEN');
      });

      it('should still let an operator who may not loosen engage a switch where none is', () => {
        const fresh = engage({ mode: 'soft', engineId: 'bot-a' });
        spec
          .given(history)
          .when({ ...fresh, data: { ...fresh.data, mayNotLoosen: true } } as ControlCommand)
          .then([engaged({ mode: 'soft', engineId: 'bot-a' })]);
      });
    });

    describe('When an engine switch is released', () => {
      it('should remove only that engine', () => {
        const state = fold(controlPlane, [
          engaged({ mode: 'hard', engineId: 'bot-a' }),
          engaged({ mode: 'soft', engineId: 'bot-b' }),
          engaged({ mode: 'soft' }),
          released({ engineId: 'bot-a' }),
        ]);
        expect(Object.keys(state.killSwitches.engines)).toEqual(['bot-b']);
        expect(state.killSwitches.global?.mode).toBe('soft');
      });
    });
  });

  describe("Automation's requests replayed after an operator cleared them", () => {
    const at = (command: ControlCommand, requestedAt: string): ControlCommand =>
      ({ ...command, data: { ...command.data, requestedAt } }) as ControlCommand;

    describe('When an operator released the engine kill switch at T1', () => {
      const history = [engaged({ engineId: 'bot-a', actor: SYSTEM }), released({ engineId: 'bot-a' })];

      it('should ignore a request made before the release (a replayed tripwire or canary event)', () => {
        spec
          .given(history)
          .when(at(engage({ engineId: 'bot-a', actor: SYSTEM, mode: 'hard' }), T0))
          .thenNothingHappened();
      });

      it('should engage on a request made after the release', () => {
        spec
          .given(history)
          .when(at(engage({ engineId: 'bot-a', actor: SYSTEM, mode: 'hard' }), T1b))
          .then([engaged({ engineId: 'bot-a', actor: SYSTEM, mode: 'hard' })]);
      });

      it('should still engage the global switch on an older request: only the released scope counts', () => {
        spec
          .given(history)
          .when(at(engage({ actor: SYSTEM, mode: 'hard' }), T0))
          .then([engaged({ actor: SYSTEM, mode: 'hard' })]);
      });
    });

    describe('When an operator resumed the engine at T1', () => {
      const history = [paused({ actor: SYSTEM }), resumed()];

      it('should ignore a pause request made before the resume', () => {
        spec
          .given(history)
          .when(at(pause({ actor: SYSTEM }), T0))
          .thenNothingHappened();
      });

      it('should pause on a request made after the resume', () => {
        spec
          .given(history)
          .when(at(pause({ actor: SYSTEM, now: T1b }), T1b))
          .then([paused({ actor: SYSTEM, now: T1b, requestedAt: T1b })]);
      });
    });
  });

  describe('Execution classes', () => {
    describe('When an action kind has never been classified', () => {
      it('should be OBSERVE_ONLY (fail safe)', () => {
        expect(executionClassOf(initialControlState(), 'order.place')).toBe('OBSERVE_ONLY');
      });

      it('should not find Object.prototype members as classes', () => {
        expect(executionClassOf(initialControlState(), 'constructor')).toBe('OBSERVE_ONLY');
      });

      it('should set a class', () => {
        spec.when(setClass('order.place', 'PROD_EXEC')).then([classSet('order.place', 'PROD_EXEC')]);
      });

      it('should refuse a class set by the system', () => {
        spec.when(setClass('order.place', 'PROD_EXEC', SYSTEM)).thenThrows(IllegalStateError);
      });
    });

    describe('When the kind already has that class', () => {
      it('should do nothing', () => {
        spec
          .given([classSet('order.place', 'SANDBOX_EXEC')])
          .when(setClass('order.place', 'SANDBOX_EXEC'))
          .thenNothingHappened();
      });
    });
  });

  describe('Engine modes', () => {
    describe('When an engine was never configured', () => {
      it('should be enforce', () => {
        expect(engineModeOf(initialControlState(), 'bot-a')).toBe('enforce');
      });

      it('should do nothing when set to enforce', () => {
        spec.when(setMode('bot-a', 'enforce')).thenNothingHappened();
      });

      it('should switch to observe', () => {
        spec.when(setMode('bot-a', 'observe')).then([modeSet('bot-a', 'observe')]);
      });
    });

    describe('When an engine observes and is set back to enforce', () => {
      it('should forget the entry so equal policies stay equal', () => {
        const state = fold(controlPlane, [modeSet('bot-a', 'observe'), modeSet('bot-a', 'enforce')]);
        expect(state.engineModes).toEqual({});
        expect(policySnapshot(state)).toEqual(policySnapshot(initialControlState()));
      });
    });
  });

  describe('Engine pauses', () => {
    describe('When the engine is not paused', () => {
      it('should pause it with a cooldown and a cause', () => {
        spec
          .when(pause({ cooldownUntil: T2, cause: 'canary-alert-9', actor: SYSTEM }))
          .then([paused({ cooldownUntil: T2, cause: 'canary-alert-9', actor: SYSTEM })]);
      });

      it('should refuse a cooldown equal to now', () => {
        spec
          .when(pause({ cooldownUntil: T0 }))
          .thenThrows(ValidationError, (e) => e.code === 'GATE.COOLDOWN_NOT_IN_FUTURE');
      });

      it('should do nothing on resume', () => {
        spec.when(resume()).thenNothingHappened();
      });
    });

    describe('When the engine is paused until T2', () => {
      const history = [paused({ cooldownUntil: T2 })];

      it('should extend to a later cooldown', () => {
        spec
          .given(history)
          .when(pause({ cooldownUntil: T3, now: T1 }))
          .then([paused({ cooldownUntil: T3, now: T1 })]);
      });

      it('should not shorten to an earlier cooldown', () => {
        spec
          .given(history)
          .when(pause({ cooldownUntil: T1b, now: T1 }))
          .thenNothingHappened();
      });

      it('should become open-ended when paused without a cooldown', () => {
        spec
          .given(history)
          .when(pause({ now: T1 }))
          .then([paused({ now: T1 })]);
      });

      it('should replace the pause once the cooldown has passed (exactly at T2)', () => {
        spec
          .given(history)
          .when(pause({ cooldownUntil: T3, now: T2 }))
          .then([paused({ cooldownUntil: T3, now: T2 })]);
      });

      it('should resume when an operator asks', () => {
        spec.given(history).when(resume()).then([resumed()]);
      });

      it('should refuse a resume by the system', () => {
        spec.given(history).when(resume(SYSTEM)).thenThrows(IllegalStateError);
      });
    });

    describe('When the engine was paused until T1 and an operator resumes it at T1', () => {
      it('should do nothing: the pause is over', () => {
        spec
          .given([paused({ cooldownUntil: T1 })])
          .when(resume())
          .thenNothingHappened();
      });
    });

    describe('When the engine is paused without a cooldown', () => {
      it('should keep the open-ended pause when paused again with a cooldown', () => {
        spec
          .given([paused()])
          .when(pause({ cooldownUntil: T3, now: T1 }))
          .thenNothingHappened();
      });
    });

    describe("When the canary's dead-man pause is in force", () => {
      const history = [paused({ actor: CANARY })];

      it("should lift it on the canary's auto-resume", () => {
        spec
          .given(history)
          .when(autoResume())
          .then([resumed(T1)]);
      });

      it('should lift it on an auto-resume asked after the pause was asked, though the gate applied the pause later', () => {
        // Asked at T0, applied at T1b (the gate was restarting); the resume asked at T1.
        const late = [paused({ actor: CANARY, now: T1b, requestedAt: T0 })];
        spec
          .given(late)
          .when(autoResume(T1, T2))
          .then([resumed(T1, T2)]);
      });

      it('should take a pause asked after an auto-resume that the gate applied later still', () => {
        // Resume asked at T1, applied at T2; the engine fell silent again and the pause was asked at T1b.
        const history2 = [...history, resumed(T1, T2)];
        spec
          .given(history2)
          .when(pause({ actor: CANARY, now: T2, requestedAt: T1b }))
          .then([paused({ actor: CANARY, now: T2, requestedAt: T1b })]);
      });

      it('should not lift it on an auto-resume requested before the pause (a replayed request)', () => {
        spec
          .given([paused({ actor: CANARY, now: T1b })])
          .when(autoResume(T1))
          .thenNothingHappened();
      });

      it('should let an operator take it over without extending it', () => {
        spec
          .given(history)
          .when(pause({ now: T1 }))
          .then([paused({ now: T1 })]);
      });

      it("should not lift it on the canary's auto-resume once an operator took it over", () => {
        spec
          .given([...history, paused({ now: T1 })])
          .when(autoResume(T1b))
          .thenNothingHappened();
      });

      it('should not lift a pause of another automation', () => {
        spec
          .given([paused({ actor: SYSTEM })])
          .when(autoResume())
          .thenNothingHappened();
      });
    });

    describe("When a canary probe's pause is in force and the dead-man switch asks too", () => {
      // The canary asks for both pauses; the gate holds one per engine: the probe's, which came first.
      const probePause = [paused({ actor: CANARY, cause: 'probe-request' })];

      it("should keep the probe's pause (the dead-man request changes nothing)", () => {
        spec
          .given(probePause)
          .when(pause({ actor: CANARY, cause: 'dead-man-request', now: T1, requestedAt: T1 }))
          .thenNothingHappened();
      });

      it('should not lift it on the auto-resume answering the dead-man request (the probe still fails)', () => {
        spec
          .given(probePause)
          .when(autoResume(T1b, T1b, 'dead-man-request'))
          .thenNothingHappened();
      });

      it('should lift it on an auto-resume naming no request (a canary before pauseRequestId: as before)', () => {
        spec
          .given(probePause)
          .when(autoResume(T1b, T1b))
          .then([resumed(T1b, T1b)]);
      });
    });

    describe("When the canary's dead-man pause is in force, caused by its request", () => {
      it('should lift it on the auto-resume answering that request', () => {
        spec
          .given([paused({ actor: CANARY, cause: 'dead-man-request' })])
          .when(autoResume(T1, T1, 'dead-man-request'))
          .then([resumed(T1)]);
      });
    });

    describe("When an operator's pause is in force and the canary extends it", () => {
      const history = [paused({ cooldownUntil: T2 }), paused({ actor: CANARY, now: T1 })];

      it("should stay the operator's: the canary's auto-resume does not lift it", () => {
        expect(fold(controlPlane, history).pauses['bot-a']).toMatchObject({
          actor: CANARY,
          heldByOperator: true,
        });
        spec.given(history).when(autoResume()).thenNothingHappened();
      });

      it("should still be lifted by an operator's resume", () => {
        spec.given(history).when(resume()).then([resumed()]);
      });
    });

    describe("When an operator's pause has ended and the canary pauses", () => {
      it("should be the canary's alone", () => {
        const history = [paused({ cooldownUntil: T1 }), paused({ actor: CANARY, now: T1b })];
        expect(fold(controlPlane, history).pauses['bot-a']?.heldByOperator).toBeUndefined();
        spec
          .given(history)
          .when(autoResume(T2))
          .then([resumed(T2)]);
      });
    });
  });

  describe('Autonomy phases', () => {
    describe('When no phase is known for the engine', () => {
      it('should apply the phase with a sorted, deduplicated whitelist', () => {
        spec
          .when(applyPhase('L3+', ['SET_POWER', 'SET_FAN', 'SET_POWER']))
          .then([phaseApplied('L3+', ['SET_FAN', 'SET_POWER'])]);
      });

      it('should refuse a phase from an engine', () => {
        spec.when(applyPhase('L5', ['ABORT'], ENGINE)).thenThrows(IllegalStateError);
      });
    });

    describe('When the engine is at L3+', () => {
      const history = [phaseApplied('L3+', ['SET_FAN', 'SET_POWER'])];

      it('should do nothing for the same phase and whitelist in another order', () => {
        spec
          .given(history)
          .when(applyPhase('L3+', ['SET_POWER', 'SET_FAN']))
          .thenNothingHappened();
      });

      it('should apply a changed whitelist at the same phase', () => {
        spec
          .given(history)
          .when(applyPhase('L3+', ['SET_POWER']))
          .then([phaseApplied('L3+', ['SET_POWER'])]);
      });

      it('should apply the next phase', () => {
        spec
          .given(history)
          .when(applyPhase('L4', ['SET_AIRFLOW', 'SET_DRUM', 'SET_FAN', 'SET_POWER']))
          .then([phaseApplied('L4', ['SET_AIRFLOW', 'SET_DRUM', 'SET_FAN', 'SET_POWER'])]);
      });
    });
  });

  describe('State', () => {
    describe('When every kind of event has been applied', () => {
      const state = fold(controlPlane, everyEvent());

      it('should survive a JSON round trip unchanged (it is snapshotted)', () => {
        expect(JSON.parse(JSON.stringify(state))).toStrictEqual(state);
      });

      it('should give a policy snapshot with sorted keys and no who/why/when', () => {
        expect(policySnapshot(state)).toStrictEqual({
          goLive: true,
          defaultExecutionClass: 'OBSERVE_ONLY',
          executionClasses: { 'offer.send': 'SANDBOX_EXEC', 'order.place': 'PROD_EXEC' },
          killSwitches: { global: null, engines: { 'bot-b': 'soft' } },
          engineModes: { 'bot-a': 'observe' },
          autonomy: { 'bot-a': { phase: 'L3+', whitelist: ['SET_FAN', 'SET_POWER'] } },
        });
        expect(Object.keys(policySnapshot(state).executionClasses)).toEqual(['offer.send', 'order.place']);
      });

      it('should give the same snapshot for the same policy reached by another history', () => {
        const other = fold(controlPlane, [
          ...everyEvent(),
          classSet('order.place', 'SANDBOX_EXEC'),
          classSet('order.place', 'PROD_EXEC'),
          engaged({ mode: 'hard', engineId: 'bot-c', actor: SYSTEM }),
          released({ engineId: 'bot-c' }),
        ]);
        expect(JSON.stringify(policySnapshot(other))).toBe(JSON.stringify(policySnapshot(state)));
      });

      it('should give another snapshot when a kill switch changes', () => {
        const other = fold(controlPlane, [...everyEvent(), engaged({ mode: 'soft' })]);
        expect(policySnapshot(other)).not.toEqual(policySnapshot(state));
      });
    });

    describe('When evolve meets an event type it does not know', () => {
      it('should leave the state unchanged', () => {
        const state = fold(controlPlane, [goLiveEnabled()]);
        expect(
          controlPlane.evolve(state, { type: 'SomethingNew', data: {} } as unknown as ControlEvent),
        ).toBe(state);
      });
    });
  });

  describe('When a caller sends a command the control plane does not have', () => {
    // Unreachable through the typed commands: a broken caller, refused with no code of its own.
    it('should refuse it as invalid with the generic code', () => {
      spec
        .given([])
        .when({ type: 'RenameEngine', data: {} } as unknown as ControlCommand)
        .thenThrows(ValidationError, (e) => e.code === 'VALIDATION.FAILED');
    });
  });
});

// Fixtures

function recordFact(
  item: GoLiveChecklistItem,
  passed: boolean,
  options: { actor?: Actor; now?: string; evidence?: string } = {},
): ControlCommand {
  return {
    type: 'RecordChecklistFact',
    data: {
      actor: options.actor ?? SYSTEM,
      item,
      passed,
      reportedBy: 'canary',
      ...(options.evidence === undefined ? {} : { evidence: options.evidence }),
      now: options.now ?? T0,
    },
  };
}

function factRecorded(
  item: GoLiveChecklistItem,
  passed: boolean,
  at = T0,
  options: { evidence?: string } = {},
): ControlEvent {
  return {
    type: 'ChecklistFactRecorded',
    data: {
      actor: SYSTEM,
      item,
      passed,
      reportedBy: 'canary',
      ...(options.evidence === undefined ? {} : { evidence: options.evidence }),
      recordedAt: at,
    },
  };
}

function allPassed(): ControlEvent[] {
  return [
    factRecorded('riskPoliciesPresent', true),
    factRecorded('canaryHealthy', true),
    factRecorded('auditChainVerified', true),
  ];
}

function enableGoLive(actor = OPERATOR): ControlCommand {
  return { type: 'EnableGoLive', data: { actor, reason: 'launch', now: T1 } };
}

function disableGoLive(actor = OPERATOR): ControlCommand {
  return { type: 'DisableGoLive', data: { actor, reason: 'incident', now: T1 } };
}

function goLiveEnabled(): ControlEvent {
  return { type: 'GoLiveEnabled', data: { actor: OPERATOR, reason: 'launch', enabledAt: T1 } };
}

function goLiveDisabled(actor = OPERATOR): ControlEvent {
  return { type: 'GoLiveDisabled', data: { actor, reason: 'incident', disabledAt: T1 } };
}

function goLiveRefused(failingItems: GoLiveChecklistItem[]): ControlEvent {
  return { type: 'GoLiveRefused', data: { actor: OPERATOR, reason: 'launch', failingItems, refusedAt: T1 } };
}

interface KillOptions {
  mode?: 'soft' | 'hard';
  engineId?: string;
  actor?: Actor;
  cause?: string;
}

function engage(o: KillOptions): ControlCommand {
  return {
    type: 'EngageKillSwitch',
    data: {
      actor: o.actor ?? OPERATOR,
      ...(o.engineId === undefined ? {} : { engineId: o.engineId }),
      mode: o.mode ?? 'soft',
      reason: 'stop',
      ...(o.cause === undefined ? {} : { cause: o.cause }),
      now: T0,
    },
  };
}

function engaged(o: KillOptions): ControlEvent {
  return {
    type: 'KillSwitchEngaged',
    data: {
      actor: o.actor ?? OPERATOR,
      ...(o.engineId === undefined ? {} : { engineId: o.engineId }),
      mode: o.mode ?? 'soft',
      reason: 'stop',
      ...(o.cause === undefined ? {} : { cause: o.cause }),
      engagedAt: T0,
    },
  };
}

function release(o: KillOptions = {}): ControlCommand {
  return {
    type: 'ReleaseKillSwitch',
    data: {
      actor: o.actor ?? OPERATOR,
      ...(o.engineId === undefined ? {} : { engineId: o.engineId }),
      reason: 'all clear',
      now: T1,
    },
  };
}

function released(o: KillOptions = {}): ControlEvent {
  return {
    type: 'KillSwitchReleased',
    data: {
      actor: o.actor ?? OPERATOR,
      ...(o.engineId === undefined ? {} : { engineId: o.engineId }),
      reason: 'all clear',
      releasedAt: T1,
    },
  };
}

type ExecutionClass = 'OBSERVE_ONLY' | 'SANDBOX_EXEC' | 'PROD_EXEC';

function setClass(actionKind: string, executionClass: ExecutionClass, actor = OPERATOR): ControlCommand {
  return {
    type: 'SetExecutionClass',
    data: { actor, actionKind, executionClass, reason: 'policy', now: T0 },
  };
}

function classSet(actionKind: string, executionClass: ExecutionClass): ControlEvent {
  return {
    type: 'ExecutionClassSet',
    data: { actor: OPERATOR, actionKind, executionClass, reason: 'policy', setAt: T0 },
  };
}

function setMode(engineId: string, mode: 'enforce' | 'observe' | 'off'): ControlCommand {
  return { type: 'SetEngineMode', data: { actor: OPERATOR, engineId, mode, reason: 'trial', now: T0 } };
}

function modeSet(engineId: string, mode: 'enforce' | 'observe' | 'off'): ControlEvent {
  return { type: 'EngineModeSet', data: { actor: OPERATOR, engineId, mode, reason: 'trial', setAt: T0 } };
}

interface PauseOptions {
  engineId?: string;
  cooldownUntil?: string;
  cause?: string;
  actor?: Actor;
  now?: string;
  /** Automation's request time, when it has one. */
  requestedAt?: string;
}

function pause(o: PauseOptions = {}): ControlCommand {
  return {
    type: 'PauseEngine',
    data: {
      actor: o.actor ?? OPERATOR,
      engineId: o.engineId ?? 'bot-a',
      reason: 'heartbeat lost',
      ...(o.cause === undefined ? {} : { cause: o.cause }),
      ...(o.cooldownUntil === undefined ? {} : { cooldownUntil: o.cooldownUntil }),
      ...(o.requestedAt === undefined ? {} : { requestedAt: o.requestedAt }),
      now: o.now ?? T0,
    },
  };
}

function paused(o: PauseOptions = {}): ControlEvent {
  return {
    type: 'EnginePaused',
    data: {
      actor: o.actor ?? OPERATOR,
      engineId: o.engineId ?? 'bot-a',
      reason: 'heartbeat lost',
      ...(o.cause === undefined ? {} : { cause: o.cause }),
      ...(o.cooldownUntil === undefined ? {} : { cooldownUntil: o.cooldownUntil }),
      pausedAt: o.now ?? T0,
      ...(o.requestedAt === undefined ? {} : { requestedAt: o.requestedAt }),
    },
  };
}

function resume(actor = OPERATOR): ControlCommand {
  return { type: 'ResumeEngine', data: { actor, engineId: 'bot-a', reason: 'back', now: T1 } };
}

/**
 * The canary's auto-resume, asked at `requestedAt`, applied at `now`: lifts only a pause the canary
 * alone holds (and, given `cause`, the dead-man request it answers caused).
 */
function autoResume(requestedAt = T1, now = T1, cause?: string): ControlCommand {
  return {
    type: 'ResumeEngine',
    data: {
      actor: OPERATOR,
      engineId: 'bot-a',
      reason: 'back',
      now,
      onlyPauseOf: { actor: CANARY, requestedAt, ...(cause === undefined ? {} : { cause }) },
    },
  };
}

/** `requestedAt`: an automatic resume's request time. */
function resumed(requestedAt?: string, resumedAt = T1): ControlEvent {
  return {
    type: 'EngineResumed',
    data: {
      actor: OPERATOR,
      engineId: 'bot-a',
      reason: 'back',
      resumedAt,
      ...(requestedAt === undefined ? {} : { requestedAt }),
    },
  };
}

function applyPhase(
  phase: string,
  whitelist: string[],
  actor: Actor = { kind: 'system', id: 'gate' },
): ControlCommand {
  return {
    type: 'ApplyAutonomyPhase',
    data: { actor, engineId: 'bot-a', phase, whitelist, cause: 'governance-event-3', now: T0 },
  };
}

function phaseApplied(phase: string, whitelist: string[]): ControlEvent {
  return {
    type: 'AutonomyPhaseApplied',
    data: {
      actor: { kind: 'system', id: 'gate' },
      engineId: 'bot-a',
      phase,
      whitelist,
      cause: 'governance-event-3',
      appliedAt: T0,
    },
  };
}

function everyEvent(): ControlEvent[] {
  return [
    ...allPassed(),
    goLiveRefused(['canaryHealthy']),
    goLiveEnabled(),
    classSet('order.place', 'PROD_EXEC'),
    classSet('offer.send', 'SANDBOX_EXEC'),
    engaged({ mode: 'hard', engineId: 'bot-a', cause: 'canary-alert-1' }),
    released({ engineId: 'bot-a' }),
    engaged({ mode: 'soft', engineId: 'bot-b' }),
    modeSet('bot-a', 'observe'),
    paused({ cooldownUntil: T2, cause: 'canary-alert-2' }),
    paused({ engineId: 'bot-c' }),
    resumed(),
    phaseApplied('L3+', ['SET_FAN', 'SET_POWER']),
  ];
}
