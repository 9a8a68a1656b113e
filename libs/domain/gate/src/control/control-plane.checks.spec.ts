import type { Actor, ActionIntent, GateCheckRequest } from '@bifrost/contracts';
import { fold } from '@bifrost/event-sourcing';
import { controlChecks } from './control-plane.checks';
import { controlPlane } from './control-plane.decider';
import type { ControlEvent } from './control-plane.events';

const OPERATOR: Actor = { kind: 'operator', id: 'ops-alice' };
const NOW = '2026-03-01T10:30:00.000Z';
const BEFORE = '2026-03-01T10:00:00.000Z';
const LATER = '2026-03-01T11:00:00.000Z';

function checksAfter(history: ControlEvent[], request: GateCheckRequest, now = NOW) {
  return controlChecks(fold(controlPlane, history), request, now);
}

function checkNamed(history: ControlEvent[], name: string, request: GateCheckRequest, now = NOW) {
  return checksAfter(history, request, now).find((c) => c.name === name);
}

describe('Control checks', () => {
  describe('Execution class', () => {
    describe('When the action kind was never classified', () => {
      it('should BLOCK as observe only', () => {
        expect(checkNamed([], 'executionClass', request())).toEqual({
          name: 'executionClass',
          outcome: 'BLOCK',
          value: 'OBSERVE_ONLY',
          threshold: 'SANDBOX_EXEC',
          distanceToTrip: null,
          reason: 'observe only: order.place has no execution class (unclassified kinds are OBSERVE_ONLY)',
        });
      });
    });

    describe('When the kind is classified OBSERVE_ONLY', () => {
      it('should BLOCK', () => {
        expect(checkNamed([classSet('OBSERVE_ONLY')], 'executionClass', request())?.outcome).toBe('BLOCK');
      });
    });

    describe('When the kind is SANDBOX_EXEC and go-live is off', () => {
      it('should ALLOW with value SANDBOX_EXEC', () => {
        expect(checkNamed([classSet('SANDBOX_EXEC')], 'executionClass', request())).toMatchObject({
          outcome: 'ALLOW',
          value: 'SANDBOX_EXEC',
        });
      });
    });

    describe('When the kind is PROD_EXEC', () => {
      it('should BLOCK while go-live is off', () => {
        expect(checkNamed([classSet('PROD_EXEC')], 'executionClass', request())).toMatchObject({
          outcome: 'BLOCK',
          value: 'PROD_EXEC',
          threshold: 'SANDBOX_EXEC',
          reason: 'go-live is off: production execution is blocked',
        });
      });

      it('should BLOCK a reduce-only action as well while go-live is off', () => {
        expect(
          checkNamed([classSet('PROD_EXEC')], 'executionClass', request({ intent: 'close' }))?.outcome,
        ).toBe('BLOCK');
      });

      it('should ALLOW while go-live is on', () => {
        expect(checkNamed([...live(), classSet('PROD_EXEC')], 'executionClass', request())).toMatchObject({
          outcome: 'ALLOW',
          value: 'PROD_EXEC',
          threshold: 'PROD_EXEC',
        });
      });

      it('should show a checklist item that turned false while live, without blocking', () => {
        const history = [...live(), classSet('PROD_EXEC'), fact('canaryHealthy', false)];
        expect(checkNamed(history, 'goLiveChecklist', request())).toEqual({
          name: 'goLiveChecklist',
          outcome: 'ALLOW',
          value: 2,
          threshold: 3,
          distanceToTrip: null,
          reason: 'not passing: canaryHealthy',
        });
        expect(checkNamed(history, 'executionClass', request())?.outcome).toBe('ALLOW');
      });
    });

    describe('When the kind is not PROD_EXEC', () => {
      it('should not add the checklist check', () => {
        expect(checkNamed([classSet('SANDBOX_EXEC')], 'goLiveChecklist', request())).toBeUndefined();
      });
    });
  });

  describe('Kill switch', () => {
    describe('When no kill switch is engaged', () => {
      it('should ALLOW with value off', () => {
        expect(checkNamed([], 'killSwitch', request())).toEqual({
          name: 'killSwitch',
          outcome: 'ALLOW',
          value: 'off',
          threshold: 'all',
          distanceToTrip: null,
        });
      });
    });

    describe('When a soft global kill switch is engaged', () => {
      const history = [engaged('soft')];

      it.each<ActionIntent>(['open', 'increase'])('should KILL a %s action', (intent) => {
        expect(checkNamed(history, 'killSwitch', request({ intent }))).toMatchObject({
          outcome: 'KILL',
          value: 'soft',
          threshold: 'reduce-only',
        });
      });

      it.each<ActionIntent>(['reduce', 'close'])('should ALLOW a %s action with a reason', (intent) => {
        expect(checkNamed(history, 'killSwitch', request({ intent }))).toMatchObject({
          outcome: 'ALLOW',
          value: 'soft',
          reason: `soft global kill switch: ${intent} only reduces exposure (stop)`,
        });
      });
    });

    describe('When a hard kill switch is engaged', () => {
      it.each<ActionIntent>(['open', 'increase', 'reduce', 'close'])('should KILL a %s action', (intent) => {
        expect(checkNamed([engaged('hard')], 'killSwitch', request({ intent }))).toMatchObject({
          outcome: 'KILL',
          value: 'hard',
          threshold: 'none',
        });
      });
    });

    describe('When only another engine is killed', () => {
      it('should ALLOW this engine', () => {
        expect(checkNamed([engaged('hard', 'bot-b')], 'killSwitch', request())?.outcome).toBe('ALLOW');
      });
    });

    describe('When the global switch is soft and the engine switch is hard', () => {
      it('should apply the stricter engine switch to a reduce action', () => {
        expect(
          checkNamed(
            [engaged('soft'), engaged('hard', 'bot-a')],
            'killSwitch',
            request({ intent: 'reduce' }),
          ),
        ).toMatchObject({ outcome: 'KILL', reason: 'hard engine bot-a kill switch engaged: stop' });
      });
    });

    describe('When the global switch is hard and the engine switch is soft', () => {
      it('should apply the stricter global switch to a reduce action', () => {
        expect(
          checkNamed(
            [engaged('hard'), engaged('soft', 'bot-a')],
            'killSwitch',
            request({ intent: 'reduce' }),
          ),
        ).toMatchObject({ outcome: 'KILL', value: 'hard', threshold: 'none' });
      });
    });

    describe('When only the engine switch is engaged, soft', () => {
      it.each<[ActionIntent, string]>([
        ['open', 'KILL'],
        ['close', 'ALLOW'],
      ])('should answer a %s action with %s', (intent, outcome) => {
        expect(checkNamed([engaged('soft', 'bot-a')], 'killSwitch', request({ intent }))?.outcome).toBe(
          outcome,
        );
      });
    });

    describe('When the engine id is an Object.prototype member name', () => {
      it('should not mistake it for an engaged switch', () => {
        expect(checkNamed([], 'killSwitch', request({ engineId: 'constructor' }))?.outcome).toBe('ALLOW');
      });
    });
  });

  describe('Engine pause', () => {
    describe('When the engine is not paused', () => {
      it('should ALLOW with value false', () => {
        expect(checkNamed([], 'enginePause', request())).toEqual({
          name: 'enginePause',
          outcome: 'ALLOW',
          value: false,
          threshold: null,
          distanceToTrip: null,
        });
      });
    });

    describe('When the engine is paused until LATER', () => {
      const history = [paused(LATER)];

      it('should PAUSE an open action with the cooldown as threshold', () => {
        expect(checkNamed(history, 'enginePause', request())).toMatchObject({
          outcome: 'PAUSE',
          value: true,
          threshold: LATER,
        });
      });

      it.each<ActionIntent>(['reduce', 'close'])('should ALLOW a %s action', (intent) => {
        expect(checkNamed(history, 'enginePause', request({ intent }))?.outcome).toBe('ALLOW');
      });

      it('should still PAUSE one millisecond before the cooldown', () => {
        expect(checkNamed(history, 'enginePause', request(), '2026-03-01T10:59:59.999Z')?.outcome).toBe(
          'PAUSE',
        );
      });

      it('should ALLOW exactly at the cooldown', () => {
        expect(checkNamed(history, 'enginePause', request(), LATER)).toMatchObject({
          outcome: 'ALLOW',
          value: false,
          reason: `pause cooldown passed at ${LATER}`,
        });
      });
    });

    describe('When the engine is paused without a cooldown', () => {
      it('should PAUSE until an operator resumes it', () => {
        expect(checkNamed([paused()], 'enginePause', request(), '2099-01-01T00:00:00.000Z')).toMatchObject({
          outcome: 'PAUSE',
          threshold: null,
          reason: 'engine paused until an operator resumes it: heartbeat lost',
        });
      });

      it('should not say only an operator lifts a pause that automation holds alone (the canary may auto-resume it)', () => {
        const byCanary = paused();
        const history = [
          { ...byCanary, data: { ...byCanary.data, actor: { kind: 'system', id: 'canary' } } },
        ];
        expect(checkNamed(history as ControlEvent[], 'enginePause', request())).toMatchObject({
          outcome: 'PAUSE',
          reason: 'engine paused until resumed: heartbeat lost',
        });
      });
    });
  });

  describe('Autonomy phase', () => {
    describe('When the action has no command type', () => {
      it('should add no autonomy check', () => {
        expect(checkNamed([phase(['SET_FAN'])], 'autonomyPhase', request())).toBeUndefined();
      });
    });

    describe('When no phase is known for the engine', () => {
      it('should REQUIRE_APPROVAL', () => {
        expect(checkNamed([], 'autonomyPhase', request({ commandType: 'SET_FAN' }))).toEqual({
          name: 'autonomyPhase',
          outcome: 'REQUIRE_APPROVAL',
          value: false,
          threshold: null,
          distanceToTrip: null,
          reason: 'no autonomy phase known for engine bot-a: SET_FAN needs approval',
        });
      });
    });

    describe('When the engine is at L3+ with SET_FAN whitelisted', () => {
      const history = [phase(['SET_FAN', 'SET_POWER'])];

      it('should ALLOW a whitelisted command', () => {
        expect(checkNamed(history, 'autonomyPhase', request({ commandType: 'SET_FAN' }))).toMatchObject({
          outcome: 'ALLOW',
          value: true,
          threshold: 'L3+',
        });
      });

      it('should REQUIRE_APPROVAL a command that is not whitelisted', () => {
        expect(checkNamed(history, 'autonomyPhase', request({ commandType: 'SET_DRUM' }))).toMatchObject({
          outcome: 'REQUIRE_APPROVAL',
          value: false,
          reason: 'SET_DRUM is not whitelisted at L3+',
        });
      });

      it('should not match command types by prefix or case', () => {
        expect(checkNamed(history, 'autonomyPhase', request({ commandType: 'set_fan' }))?.outcome).toBe(
          'REQUIRE_APPROVAL',
        );
      });
    });
  });

  describe('Order of checks', () => {
    it('should list executionClass, goLiveChecklist, killSwitch, enginePause, autonomyPhase', () => {
      const names = checksAfter([classSet('PROD_EXEC')], request({ commandType: 'SET_FAN' })).map(
        (c) => c.name,
      );
      expect(names).toEqual([
        'executionClass',
        'goLiveChecklist',
        'killSwitch',
        'enginePause',
        'autonomyPhase',
      ]);
    });
  });
});

// Fixtures

function request(
  o: { intent?: ActionIntent; commandType?: string; engineId?: string } = {},
): GateCheckRequest {
  return {
    engineId: o.engineId ?? 'bot-a',
    strategyId: 'momentum',
    action: {
      kind: 'order.place',
      intent: o.intent ?? 'open',
      ...(o.commandType === undefined ? {} : { commandType: o.commandType }),
    },
  };
}

function fact(
  item: 'riskPoliciesPresent' | 'canaryHealthy' | 'auditChainVerified',
  passed: boolean,
): ControlEvent {
  return {
    type: 'ChecklistFactRecorded',
    data: { actor: { kind: 'system', id: 'canary' }, item, passed, reportedBy: 'canary', recordedAt: BEFORE },
  };
}

function live(): ControlEvent[] {
  return [
    fact('riskPoliciesPresent', true),
    fact('canaryHealthy', true),
    fact('auditChainVerified', true),
    { type: 'GoLiveEnabled', data: { actor: OPERATOR, reason: 'launch', enabledAt: BEFORE } },
  ];
}

function classSet(executionClass: 'OBSERVE_ONLY' | 'SANDBOX_EXEC' | 'PROD_EXEC'): ControlEvent {
  return {
    type: 'ExecutionClassSet',
    data: { actor: OPERATOR, actionKind: 'order.place', executionClass, reason: 'policy', setAt: BEFORE },
  };
}

function engaged(mode: 'soft' | 'hard', engineId?: string): ControlEvent {
  return {
    type: 'KillSwitchEngaged',
    data: {
      actor: OPERATOR,
      ...(engineId === undefined ? {} : { engineId }),
      mode,
      reason: 'stop',
      engagedAt: BEFORE,
    },
  };
}

function paused(cooldownUntil?: string): ControlEvent {
  return {
    type: 'EnginePaused',
    data: {
      actor: OPERATOR,
      engineId: 'bot-a',
      reason: 'heartbeat lost',
      ...(cooldownUntil === undefined ? {} : { cooldownUntil }),
      pausedAt: BEFORE,
    },
  };
}

function phase(whitelist: string[]): ControlEvent {
  return {
    type: 'AutonomyPhaseApplied',
    data: {
      actor: { kind: 'system', id: 'gate' },
      engineId: 'bot-a',
      phase: 'L3+',
      whitelist,
      cause: 'governance-event-1',
      appliedAt: BEFORE,
    },
  };
}
