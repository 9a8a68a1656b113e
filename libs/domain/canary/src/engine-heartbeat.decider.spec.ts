import { DeciderSpecification, IllegalStateError, fold } from '@bifrost/event-sourcing';
import {
  MAX_DECLARED_GAP_MS,
  engineHeartbeatDecider,
  stalePauseRequestId,
  staleIncomplete,
  type EngineHeartbeatCommand,
  type EngineHeartbeatEvent,
} from './engine-heartbeat.decider';

const T0 = '2026-11-21T12:00:00.000Z';
const OPERATOR = { kind: 'operator' as const, id: 'alice' };
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
/** The envelope id of the dead-man switch's pause request of the silence. */
const DEAD_MAN_REQUEST = '0190f0a0-0000-7000-8000-000000000001';

describe('Engine heartbeat (dead-man switch)', () => {
  const spec = DeciderSpecification.for(engineHeartbeatDecider, { defaultAllowedGapMs: 30_000 });

  describe('Given an engine never heard from', () => {
    it('should start watching it on its first heartbeat', () => {
      spec
        .given([])
        .when(heartbeat(0))
        .then([{ type: 'EngineWatched', data: { engineId: 'e1', firstHeartbeatAt: T0, at: T0 } }]);
    });

    it('should not judge its silence', () => {
      spec.given([]).when(sweep(null, 3_600_000)).thenNothingHappened();
    });
  });

  describe('Given a watched engine with the default gap (30 s)', () => {
    const history = [watched()];

    it('should stay ALIVE while the silence is at most the allowed gap', () => {
      spec
        .given(history)
        .when(sweep(at(1_000), 31_000))
        .thenNothingHappened();
    });

    it('should go STALE, alert and ask the gate to pause it once the gap is exceeded', () => {
      const reason = `no heartbeat for 30001 ms (allowed 30000 ms, last ${at(1_000)})`;
      spec
        .given(history)
        .when(sweep(at(1_000), 31_001))
        .then([
          {
            type: 'EngineWentStale',
            data: {
              engineId: 'e1',
              lastHeartbeatAt: at(1_000),
              allowedGapMs: 30_000,
              silentForMs: 30_001,
              alertId: 'engine:e1:1',
              at: at(31_001),
            },
          },
          {
            type: 'AlertRaised',
            data: { alertId: 'engine:e1:1', engineId: 'e1', action: 'pause_engine', reason, at: at(31_001) },
          },
          { type: 'EnginePauseRequested', data: { engineId: 'e1', reason: `dead-man switch: ${reason}` } },
        ]);
    });

    it('should measure from the start of watching when no heartbeat was seen since', () => {
      const events = engineHeartbeatDecider.decide(
        sweep(null, 30_001),
        fold(engineHeartbeatDecider, history),
        {
          defaultAllowedGapMs: 30_000,
        },
      );
      expect(events[0]).toMatchObject({ type: 'EngineWentStale', data: { lastHeartbeatAt: T0 } });
    });

    it("should use the engine's own gap once an operator set it", () => {
      const policy = policySet({ allowedGapMs: 60_000 });
      spec
        .given([...history, policy])
        .when(sweep(at(0), 59_000))
        .thenNothingHappened();
    });

    it("should judge by the engine's own gap when it is shorter than the default (10 s)", () => {
      const shorter = [...history, policySet({ allowedGapMs: 10_000 })];
      spec
        .given(shorter)
        .when(sweep(at(0), 10_000))
        .thenNothingHappened();
      const events = engineHeartbeatDecider.decide(
        sweep(at(0), 10_001),
        fold(engineHeartbeatDecider, shorter),
        {
          defaultAllowedGapMs: 30_000,
        },
      );
      expect(events[0]).toMatchObject({
        type: 'EngineWentStale',
        data: { allowedGapMs: 10_000, silentForMs: 10_001 },
      });
    });

    it('should allow three of the heartbeat intervals the engine declares (seed 004)', () => {
      spec
        .given(history)
        .when(sweep(at(0), 90_000, 30_000))
        .thenNothingHappened();
      const events = engineHeartbeatDecider.decide(
        sweep(at(0), 90_001, 30_000),
        fold(engineHeartbeatDecider, history),
        { defaultAllowedGapMs: 30_000 },
      );
      expect(events[0]).toMatchObject({ type: 'EngineWentStale', data: { allowedGapMs: 90_000 } });
    });

    it('should let a declared interval lengthen the gap to 15 min at most, the engine being the party watched', () => {
      const events = engineHeartbeatDecider.decide(
        sweep(at(0), MAX_DECLARED_GAP_MS + 1, 2_147_483_647),
        fold(engineHeartbeatDecider, history),
        { defaultAllowedGapMs: 30_000 },
      );
      expect(events[0]).toMatchObject({ type: 'EngineWentStale', data: { allowedGapMs: 900_000 } });
      // A service default above that still stands.
      expect(
        engineHeartbeatDecider.decide(
          sweep(at(0), 1_000_000, 2_147_483_647),
          fold(engineHeartbeatDecider, history),
          { defaultAllowedGapMs: 1_200_000 },
        ),
      ).toEqual([]);
    });

    it('should never allow less than the default gap, however short the declared interval', () => {
      spec
        .given(history)
        .when(sweep(at(0), 30_000, 1_000))
        .thenNothingHappened();
    });

    it("should prefer the operator's gap to three declared intervals", () => {
      const events = engineHeartbeatDecider.decide(
        sweep(at(0), 40_001, 30_000),
        fold(engineHeartbeatDecider, [...history, policySet({ allowedGapMs: 40_000 })]),
        { defaultAllowedGapMs: 30_000 },
      );
      expect(events[0]).toMatchObject({ type: 'EngineWentStale', data: { allowedGapMs: 40_000 } });
    });

    it('should not judge it once watching is disabled', () => {
      spec
        .given([...history, policySet({ enabled: false })])
        .when(sweep(at(0), 999_999))
        .thenNothingHappened();
    });

    it('should name the probe that asks for a pause', () => {
      spec
        .given(history)
        .when({
          type: 'RequestPause',
          data: { engineId: 'e1', probeName: 'broker-api', reason: 'probe broker-api: down', now: T0 },
        })
        .then([
          {
            type: 'EnginePauseRequested',
            data: { engineId: 'e1', reason: 'probe broker-api: down', probeName: 'broker-api' },
          },
        ]);
    });

    it('should clip the reason a probe gives for a pause to 500 code points, after a whole emoji', () => {
      // 504 code points; cut at 500 UTF-16 code units, it would end in half an emoji.
      const reason = `probe p: ${'😀'.repeat(495)}`;
      spec
        .given(history)
        .when({ type: 'RequestPause', data: { engineId: 'e1', probeName: 'p', reason, now: T0 } })
        .then([
          {
            type: 'EnginePauseRequested',
            data: { engineId: 'e1', reason: `probe p: ${'😀'.repeat(490)}…`, probeName: 'p' },
          },
        ]);
    });

    it('should refuse a policy change from anyone but an operator', () => {
      spec
        .given(history)
        .when(setPolicy({ autoResume: true }, { kind: 'system', id: 'x' }))
        .thenThrows(IllegalStateError);
    });
  });

  describe('Given a STALE engine', () => {
    const stale = (extra: EngineHeartbeatEvent[] = []) => [
      watched(),
      ...extra,
      ...engineHeartbeatDecider.decide(
        sweep(at(0), 40_000),
        fold(engineHeartbeatDecider, [watched(), ...extra]),
        {
          defaultAllowedGapMs: 30_000,
        },
      ),
    ];

    it('should not pause it again on the next sweep', () => {
      spec
        .given(stale())
        .when(sweep(at(0), 80_000))
        .thenNothingHappened();
    });

    it.each([1, 2])(
      'should raise what its staleness left unstored when only %d of its three events were (an append cut short)',
      (kept) => {
        const history = stale().slice(0, 1 + kept);
        expect(staleIncomplete(fold(engineHeartbeatDecider, history))).toBe(true);
        const events = engineHeartbeatDecider.decide(
          sweep(at(0), 80_000),
          fold(engineHeartbeatDecider, history),
          { defaultAllowedGapMs: 30_000 },
        );
        expect(events.map((e) => e.type)).toEqual(
          kept === 1 ? ['AlertRaised', 'EnginePauseRequested'] : ['EnginePauseRequested'],
        );
        expect(events[0]?.data).toMatchObject(kept === 1 ? { alertId: 'engine:e1:1' } : { engineId: 'e1' });
        const completed = fold(engineHeartbeatDecider, [...history, ...events]);
        expect(staleIncomplete(completed)).toBe(false);
        expect(completed).toMatchObject({ health: 'STALE', alert: { alertId: 'engine:e1:1' } });
      },
    );

    it('should ignore a heartbeat from before the silence (redelivered or late)', () => {
      const late: EngineHeartbeatCommand = {
        type: 'RecordHeartbeat',
        data: { engineId: 'e1', heartbeatAt: at(0), now: at(45_000) },
      };
      spec.given(stale()).when(late).thenNothingHappened();
    });

    it('should mark it ALIVE on a fresh heartbeat but request no resume without auto-resume', () => {
      spec
        .given(stale())
        .when(heartbeat(50_000))
        .then([
          {
            type: 'EngineHeartbeatRestored',
            data: { engineId: 'e1', heartbeatAt: at(50_000), staleSince: at(40_000), at: at(50_000) },
          },
        ]);
    });

    it('should request a resume of the pause its dead-man request caused, on the authority of the operator who enabled auto-resume', () => {
      const events = engineHeartbeatDecider.decide(
        heartbeat(50_000, DEAD_MAN_REQUEST),
        fold(engineHeartbeatDecider, stale([policySet({ autoResume: true })])),
        { defaultAllowedGapMs: 30_000 },
      );
      expect(events.map((e) => e.type)).toEqual(['EngineHeartbeatRestored', 'EngineResumeRequested']);
      expect(events[1]?.data).toMatchObject({
        engineId: 'e1',
        authorizedBy: OPERATOR,
        authorizedAt: T0,
        pauseRequestId: DEAD_MAN_REQUEST,
      });
    });

    it('should request no resume while its dead-man request is not known (no dead-man pause to lift)', () => {
      spec
        .given(stale([policySet({ autoResume: true })]))
        .when(heartbeat(50_000))
        .then([
          {
            type: 'EngineHeartbeatRestored',
            data: { engineId: 'e1', heartbeatAt: at(50_000), staleSince: at(40_000), at: at(50_000) },
          },
        ]);
    });

    it("should name the dead-man request, not the pause a probe asked for before the silence (the gate's pause)", () => {
      const probePause: EngineHeartbeatEvent = {
        type: 'EnginePauseRequested',
        data: { engineId: 'e1', reason: 'probe exchange-api: down', probeName: 'exchange-api' },
      };
      const history = stale([policySet({ autoResume: true }), probePause]);
      const ids = history.map((event, i) =>
        event === probePause
          ? 'probe-request'
          : event.type === 'EnginePauseRequested'
            ? DEAD_MAN_REQUEST
            : `e${i}`,
      );
      const pauseRequestId = stalePauseRequestId(
        history.map((event, i) => ({ id: ids[i] as string, event })),
      );
      expect(pauseRequestId).toBe(DEAD_MAN_REQUEST);
      const events = engineHeartbeatDecider.decide(
        heartbeat(50_000, pauseRequestId),
        fold(engineHeartbeatDecider, history),
        { defaultAllowedGapMs: 30_000 },
      );
      expect(events[1]).toMatchObject({
        type: 'EngineResumeRequested',
        data: { pauseRequestId: DEAD_MAN_REQUEST },
      });
    });

    it("should find the dead-man request of this silence only (a former silence's is answered)", () => {
      const history = stale();
      const restored = [
        ...history,
        ...engineHeartbeatDecider.decide(heartbeat(50_000), fold(engineHeartbeatDecider, history), {
          defaultAllowedGapMs: 30_000,
        }),
      ];
      const withIds = (events: EngineHeartbeatEvent[]) =>
        events.map((event, i) => ({ id: `id-${i}`, event }));
      expect(stalePauseRequestId(withIds(history))).toBe(`id-${history.length - 1}`);
      const again = engineHeartbeatDecider.decide(
        sweep(at(50_000), 90_000),
        fold(engineHeartbeatDecider, restored),
        {
          defaultAllowedGapMs: 30_000,
        },
      );
      const silentAgain = [...restored, ...again];
      expect(stalePauseRequestId(withIds(silentAgain))).toBe(`id-${silentAgain.length - 1}`);
      // Its pause request not stored (an append cut short): none.
      expect(stalePauseRequestId(withIds(silentAgain.slice(0, -1)))).toBeNull();
    });

    it('should request no resume when a probe asked to pause it during the silence (the gate holds one pause for both)', () => {
      const probePause: EngineHeartbeatEvent = {
        type: 'EnginePauseRequested',
        data: { engineId: 'e1', reason: 'probe exchange-api: down', probeName: 'exchange-api' },
      };
      spec
        .given([...stale([policySet({ autoResume: true })]), probePause])
        .when(heartbeat(50_000, DEAD_MAN_REQUEST))
        .then([
          {
            type: 'EngineHeartbeatRestored',
            data: { engineId: 'e1', heartbeatAt: at(50_000), staleSince: at(40_000), at: at(50_000) },
          },
        ]);
    });

    it('should resolve its alert when it comes back', () => {
      const history = stale();
      const restored = engineHeartbeatDecider.decide(
        heartbeat(50_000),
        fold(engineHeartbeatDecider, history),
        {
          defaultAllowedGapMs: 30_000,
        },
      );
      expect(fold(engineHeartbeatDecider, [...history, ...restored])).toMatchObject({
        health: 'ALIVE',
        alert: { alertId: 'engine:e1:1', resolvedAt: at(50_000) },
      });
    });

    it('should take a fresh sign-off as a heartbeat first, then mark it OFFLINE', () => {
      const events = engineHeartbeatDecider.decide(
        signOff(50_000, 50_000, DEAD_MAN_REQUEST),
        fold(engineHeartbeatDecider, stale([policySet({ autoResume: true })])),
        { defaultAllowedGapMs: 30_000 },
      );
      expect(events.map((e) => e.type)).toEqual([
        'EngineHeartbeatRestored',
        'EngineResumeRequested',
        'EngineSignedOff',
      ]);
    });

    it('should ignore a sign-off from before the silence', () => {
      spec.given(stale()).when(signOff(0, 45_000)).thenNothingHappened();
    });

    describe('When an operator disables watching it', () => {
      it('should resolve its alert and make it ALIVE, without asking the gate to resume it', () => {
        spec
          .given(stale([policySet({ autoResume: true })]))
          .when(setPolicy({ enabled: false }))
          .then([
            {
              type: 'HeartbeatPolicySet',
              data: {
                engineId: 'e1',
                allowedGapMs: null,
                autoResume: true,
                enabled: false,
                actor: OPERATOR,
                reason: 'test',
                at: T0,
              },
            },
            {
              type: 'AlertResolved',
              data: {
                alertId: 'engine:e1:1',
                engineId: 'e1',
                reason: 'watching disabled by alice: test',
                at: T0,
              },
            },
          ]);
        const history = stale([policySet({ autoResume: true })]);
        const after = fold(engineHeartbeatDecider, [
          ...history,
          ...engineHeartbeatDecider.decide(
            setPolicy({ enabled: false }),
            fold(engineHeartbeatDecider, history),
            {
              defaultAllowedGapMs: 30_000,
            },
          ),
        ]);
        expect(after).toMatchObject({
          health: 'ALIVE',
          enabled: false,
          staleSince: null,
          alert: { alertId: 'engine:e1:1', resolvedAt: T0 },
        });
      });

      it('should keep a reason with emoji whole where it fits, and clip a longer one after a whole emoji', () => {
        // 329 code points (what the schema's 500 counts), 629 UTF-16 code units.
        const reason = `a${'😀'.repeat(300)}`;
        const events = engineHeartbeatDecider.decide(
          setPolicy({ enabled: false }, OPERATOR, reason),
          fold(engineHeartbeatDecider, stale()),
          { defaultAllowedGapMs: 30_000 },
        );
        expect(events.map((e) => e.type)).toEqual(['HeartbeatPolicySet', 'AlertResolved']);
        expect(events[1]?.data).toMatchObject({ reason: `watching disabled by alice: ${reason}` });

        const [, resolved] = engineHeartbeatDecider.decide(
          setPolicy({ enabled: false }, OPERATOR, '😀'.repeat(500)),
          fold(engineHeartbeatDecider, stale()),
          { defaultAllowedGapMs: 30_000 },
        );
        const clipped = resolved?.type === 'AlertResolved' ? resolved.data.reason : '';
        expect(Array.from(clipped)).toHaveLength(500);
        expect(clipped).toMatch(/^watching disabled by alice: 😀+…$/u);
      });

      it('should then neither judge its silence nor resume it on a heartbeat', () => {
        const disabled = [...stale(), policySet({ enabled: false })];
        spec
          .given(disabled)
          .when(sweep(at(0), 999_999))
          .thenNothingHappened();
        spec
          .given([
            ...stale([policySet({ autoResume: true })]),
            policySet({ autoResume: true, enabled: false }),
          ])
          .when(heartbeat(50_000))
          .thenNothingHappened();
      });

      it('should judge it again from its last heartbeat once re-enabled, with a new alert', () => {
        const reenabled = [...stale(), policySet({ enabled: false }), policySet({ enabled: true })];
        const events = engineHeartbeatDecider.decide(
          sweep(at(0), 100_000),
          fold(engineHeartbeatDecider, reenabled),
          { defaultAllowedGapMs: 30_000 },
        );
        expect(events.map((e) => e.type)).toEqual(['EngineWentStale', 'AlertRaised', 'EnginePauseRequested']);
        expect(events[1]?.data).toMatchObject({ alertId: 'engine:e1:2' });
      });
    });
  });

  describe('Given an engine that signs off (it stops on purpose)', () => {
    const signedOff = () => [watched(), signedOffEvent(10_000)];

    it('should mark a watched engine OFFLINE', () => {
      spec
        .given([watched()])
        .when(signOff(10_000))
        .then([signedOffEvent(10_000)]);
    });

    it('should start watching an engine whose first heartbeat is a sign-off, OFFLINE', () => {
      spec
        .given([])
        .when(signOff(0))
        .then([
          { type: 'EngineWatched', data: { engineId: 'e1', firstHeartbeatAt: T0, at: T0 } },
          signedOffEvent(0),
        ]);
    });

    it('should not judge its silence, however long', () => {
      spec
        .given(signedOff())
        .when(sweep(at(10_000), 3_600_000))
        .thenNothingHappened();
    });

    it('should sign it on again with its next heartbeat, and judge its silence from then on', () => {
      spec
        .given(signedOff())
        .when(heartbeat(600_000))
        .then([
          {
            type: 'EngineSignedOn',
            data: { engineId: 'e1', heartbeatAt: at(600_000), signedOffAt: at(10_000), at: at(600_000) },
          },
        ]);
      const back = fold(engineHeartbeatDecider, [
        ...signedOff(),
        ...engineHeartbeatDecider.decide(heartbeat(600_000), fold(engineHeartbeatDecider, signedOff()), {
          defaultAllowedGapMs: 30_000,
        }),
      ]);
      expect(back).toMatchObject({ health: 'ALIVE', signedOffAt: null });
      const events = engineHeartbeatDecider.decide(sweep(at(600_000), 630_001), back, {
        defaultAllowedGapMs: 30_000,
      });
      expect(events.map((e) => e.type)).toEqual(['EngineWentStale', 'AlertRaised', 'EnginePauseRequested']);
    });

    it('should ignore a heartbeat from before the sign-off, and a second sign-off', () => {
      spec
        .given(signedOff())
        .when({ type: 'RecordHeartbeat', data: { engineId: 'e1', heartbeatAt: at(10_000), now: at(20_000) } })
        .thenNothingHappened();
      spec.given(signedOff()).when(signOff(20_000)).thenNothingHappened();
    });
  });
});

function watched(): EngineHeartbeatEvent {
  return { type: 'EngineWatched', data: { engineId: 'e1', firstHeartbeatAt: T0, at: T0 } };
}

/** `pauseRequestId`: the dead-man request of the silence, as the service looks it up while STALE. */
function heartbeat(ms: number, pauseRequestId?: string | null): EngineHeartbeatCommand {
  return {
    type: 'RecordHeartbeat',
    data: {
      engineId: 'e1',
      heartbeatAt: at(ms),
      now: at(ms),
      ...(pauseRequestId === undefined ? {} : { pauseRequestId }),
    },
  };
}

function signOff(ms: number, nowMs = ms, pauseRequestId?: string): EngineHeartbeatCommand {
  return {
    type: 'RecordHeartbeat',
    data: {
      engineId: 'e1',
      heartbeatAt: at(ms),
      signingOff: true,
      now: at(nowMs),
      ...(pauseRequestId === undefined ? {} : { pauseRequestId }),
    },
  };
}

function signedOffEvent(ms: number): EngineHeartbeatEvent {
  return { type: 'EngineSignedOff', data: { engineId: 'e1', heartbeatAt: at(ms), at: at(ms) } };
}

function sweep(lastHeartbeatAt: string | null, nowMs: number, intervalMs?: number): EngineHeartbeatCommand {
  return {
    type: 'CheckHeartbeat',
    data: { engineId: 'e1', lastHeartbeatAt, now: at(nowMs), ...(intervalMs ? { intervalMs } : {}) },
  };
}

function setPolicy(
  change: { allowedGapMs?: number | null; autoResume?: boolean; enabled?: boolean },
  actor: { kind: 'operator' | 'system'; id: string } = OPERATOR,
  reason = 'test',
): EngineHeartbeatCommand {
  return { type: 'SetHeartbeatPolicy', data: { engineId: 'e1', actor, reason, now: T0, ...change } };
}

function policySet(change: {
  allowedGapMs?: number | null;
  autoResume?: boolean;
  enabled?: boolean;
}): EngineHeartbeatEvent {
  return {
    type: 'HeartbeatPolicySet',
    data: {
      engineId: 'e1',
      allowedGapMs: change.allowedGapMs ?? null,
      autoResume: change.autoResume ?? false,
      enabled: change.enabled ?? true,
      actor: OPERATOR,
      reason: 'test',
      at: T0,
    },
  };
}
