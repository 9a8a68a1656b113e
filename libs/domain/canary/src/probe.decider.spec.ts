import type { ProbeConfig } from '@bifrost/contracts';
import {
  DeciderSpecification,
  IllegalStateError,
  NotFoundError,
  ValidationError,
  fold,
} from '@bifrost/event-sourcing';
import { defaultProbes } from './default-probes';
import {
  NO_RESULTS,
  countCheck,
  probeDecider,
  type ProbeCommand,
  type ProbeCounters,
  type ProbeEvent,
  type ProbeState,
} from './probe.decider';

const T0 = '2026-11-21T12:00:00.000Z';
const T1 = '2026-11-21T12:00:10.000Z';
const OPERATOR = { kind: 'operator' as const, id: 'alice' };
const SYSTEM = { kind: 'system' as const, id: 'canary' };

describe('Probe', () => {
  const spec = DeciderSpecification.for(probeDecider, undefined);

  describe('counting check results', () => {
    it('should count failures in a row and reset them on a pass (and vice versa)', () => {
      const run = [false, false, true, false, false, false].reduce(countCheck, NO_RESULTS);
      expect(run).toEqual({ consecutiveFailures: 3, consecutivePasses: 0 });
      expect(countCheck(run, true)).toEqual({ consecutiveFailures: 0, consecutivePasses: 1 });
    });
  });

  describe('Given no probe', () => {
    it('should define one for an operator', () => {
      spec
        .given([])
        .when(define(probe()))
        .then([defined(probe())]);
    });

    it('should refuse an engine or a pause_engine probe without engine', () => {
      spec
        .given([])
        .when(define(probe(), { actor: { kind: 'engine', id: 'e1' } }))
        .thenThrows(IllegalStateError, (e) => expect(e.code).toBe('CANARY.OPERATOR_REQUIRED'));
      spec
        .given([])
        .when(define(probe({ action: 'pause_engine' })))
        .thenThrows(ValidationError, (e) => expect(e.code).toBe('CANARY.INVALID_PROBE'));
    });

    it.each([
      ['a timeout longer than the interval', { intervalMs: 100, timeoutMs: 101 }],
      ['an expected status on a tcp probe', { kind: 'tcp', target: '127.0.0.1:5432', expectStatus: 200 }],
      [
        'an expected body on a nats probe',
        { kind: 'nats', target: 'bifrost.rpc.gate.ping', expectBody: 'ok' },
      ],
      ['a query on an http probe', { query: 'select 1' }],
    ] as const)('should refuse a probe with %s (CANARY.INVALID_PROBE)', (_what, overrides) => {
      spec
        .given([])
        .when(define(probe(overrides)))
        .thenThrows(ValidationError, (e) => expect(e.code).toBe('CANARY.INVALID_PROBE'));
    });

    it('should accept a timeout equal to the interval, an expected status on http and a query on postgres', () => {
      for (const p of [
        probe({ intervalMs: 100, timeoutMs: 100, expectStatus: 204, expectBody: 'ok' }),
        probe({ kind: 'postgres', target: '$DATABASE_URL', query: 'select 1' }),
      ])
        spec
          .given([])
          .when(define(p))
          .then([defined(p)]);
    });

    it.each([
      ['http', 'not a url'],
      ['tcp', 'localhost'],
      ['tcp', 'localhost:99999'],
      ['nats', 'bifrost.rpc.>'],
      ['postgres', 'mysql://x'],
    ] as const)('should refuse a %s probe targeting "%s"', (kind, target) => {
      spec
        .given([])
        .when(define(probe({ kind, target })))
        .thenThrows(ValidationError, (e) => expect(e.code).toBe('CANARY.INVALID_TARGET'));
    });

    it('should ignore a check result (the probe was removed while it ran)', () => {
      spec
        .given([])
        .when(check(false, { consecutiveFailures: 5, consecutivePasses: 0 }))
        .thenNothingHappened();
    });
  });

  describe('Given a kill_switch probe (threshold 3, recovery 2) that is UP', () => {
    const history = [defined(probe()), statusChanged('UNKNOWN', 'UP', 0, 1)];

    it('should publish nothing for the first two failures', () => {
      spec
        .given(history)
        .when(check(false, failures(1)))
        .thenNothingHappened();
      spec
        .given(history)
        .when(check(false, failures(2)))
        .thenNothingHappened();
    });

    it('should go DOWN, alert and request the hard kill switch on the 3rd failure in a row', () => {
      spec
        .given(history)
        .when(check(false, failures(3), 'timeout after 100 ms'))
        .then([
          statusChanged('UP', 'DOWN', 3, 0, 'timeout after 100 ms'),
          alert(1, 'kill_switch', '3 consecutive failures (threshold 3): timeout after 100 ms'),
          {
            type: 'KillSwitchRequested',
            data: {
              probeName: 'exchange',
              mode: 'hard',
              reason: '3 consecutive failures (threshold 3): timeout after 100 ms',
              consecutiveFailures: 3,
            },
          },
        ]);
    });

    it("should name the probe's engine on the alert, so the engine's alerts include it", () => {
      for (const action of ['kill_switch', 'pause_engine'] as const) {
        const scoped = probe({ action, engineId: 'e1' });
        const events = probeDecider.decide(check(false, failures(3)), state([defined(scoped)]), undefined);
        expect(events[1]).toEqual({
          type: 'AlertRaised',
          data: {
            alertId: 'probe:exchange:1',
            probeName: 'exchange',
            engineId: 'e1',
            action,
            reason: '3 consecutive failures (threshold 3): HTTP 503',
            at: T1,
          },
        });
      }
    });

    it('should clip a detail and a reason with emoji to 500 code points, never cutting an emoji in two', () => {
      // 501 code points, 1,001 UTF-16 code units: cut at 500 code units, the detail and the reason
      // (its prefix has an even length) would end in half an emoji.
      const detail = `a${'😀'.repeat(500)}`;
      const [changed, raised, requested] = probeDecider.decide(
        check(false, failures(3), detail),
        state(history),
        undefined,
      );
      const reason = `3 consecutive failures (threshold 3): a${'😀'.repeat(460)}…`;
      expect(Array.from(reason)).toHaveLength(500);
      expect(changed?.data).toMatchObject({ detail: `a${'😀'.repeat(498)}…` });
      expect(raised?.data).toMatchObject({ reason });
      expect(requested).toMatchObject({ type: 'KillSwitchRequested', data: { reason } });
    });

    it('should keep a detail with emoji whole where it fits (an expected body of 200 emoji)', () => {
      const detail = `body does not contain "${'😀'.repeat(200)}"`;
      spec
        .given(history)
        .when(check(false, failures(3), detail))
        .then([
          statusChanged('UP', 'DOWN', 3, 0, detail),
          alert(1, 'kill_switch', `3 consecutive failures (threshold 3): ${detail}`),
          {
            type: 'KillSwitchRequested',
            data: {
              probeName: 'exchange',
              mode: 'hard',
              reason: `3 consecutive failures (threshold 3): ${detail}`,
              consecutiveFailures: 3,
            },
          },
        ]);
    });

    it("should ask for the engine's soft switch when the probe names an engine and soft mode", () => {
      const scoped = probe({ engineId: 'e1', killMode: 'soft' });
      const events = probeDecider.decide(check(false, failures(3)), state([defined(scoped)]), undefined);
      expect(events.at(-1)).toMatchObject({
        type: 'KillSwitchRequested',
        data: { engineId: 'e1', mode: 'soft' },
      });
    });
  });

  describe('Given the probe is DOWN', () => {
    const killRequested: ProbeEvent = {
      type: 'KillSwitchRequested',
      data: { probeName: 'exchange', mode: 'hard', reason: 'down', consecutiveFailures: 3 },
    };
    const history = [
      defined(probe()),
      statusChanged('UNKNOWN', 'DOWN', 3, 0),
      alert(1, 'kill_switch', 'down'),
      killRequested,
    ];

    it('should raise the alert and request the kill switch its going DOWN left unstored (an append cut short)', () => {
      spec
        .given(history.slice(0, 2))
        .when(check(false, failures(4)))
        .then([
          alert(1, 'kill_switch', `DOWN since ${T1} (its alert was not stored)`),
          {
            ...killRequested,
            data: {
              ...killRequested.data,
              reason: `DOWN since ${T1} (its alert was not stored)`,
              consecutiveFailures: 4,
            },
          },
        ]);
      spec
        .given(history.slice(0, 3))
        .when(check(false, failures(4)))
        .then([{ ...killRequested, data: { ...killRequested.data, consecutiveFailures: 4 } }]);
    });

    it('should not request the kill switch again while failures continue', () => {
      spec
        .given(history)
        .when(check(false, failures(4)))
        .thenNothingHappened();
    });

    it('should not recover on a single pass (flapping)', () => {
      const flapping = [false, true, false, true].reduce(countCheck, failures(3));
      expect(flapping).toEqual({ consecutiveFailures: 0, consecutivePasses: 1 });
      spec.given(history).when(check(true, flapping)).thenNothingHappened();
    });

    it('should recover after recoveryThreshold passes in a row, resolving the alert and releasing nothing', () => {
      spec
        .given(history)
        .when(check(true, passes(2)))
        .then([statusChanged('DOWN', 'UP', 0, 2)]);
      const after = state([...history, statusChanged('DOWN', 'UP', 0, 2, 'ok', T1)]);
      expect(after).toMatchObject({ health: 'UP', alert: { alertId: 'probe:exchange:1', resolvedAt: T1 } });
    });

    it('should let an operator acknowledge the alert once, and refuse an unknown alert', () => {
      spec
        .given(history)
        .when(ack('probe:exchange:1'))
        .then([
          {
            type: 'AlertAcknowledged',
            data: {
              alertId: 'probe:exchange:1',
              probeName: 'exchange',
              actor: OPERATOR,
              reason: 'on it',
              at: T1,
            },
          },
        ]);
      spec
        .given([...history, ...probeDecider.decide(ack('probe:exchange:1'), state(history), undefined)])
        .when(ack('probe:exchange:1'))
        .thenNothingHappened();
      spec
        .given(history)
        .when(ack('probe:exchange:9'))
        .thenThrows(NotFoundError, (e) => expect(e.code).toBe('CANARY.ALERT_UNKNOWN'));
    });

    describe('When an operator changes its action or kill mode', () => {
      const superseded = (action: ProbeConfig['action']): ProbeEvent => ({
        type: 'AlertResolved',
        data: {
          alertId: 'probe:exchange:1',
          probeName: 'exchange',
          reason: `superseded by probe:exchange:2: escalated to ${action}`,
          at: T0,
        },
      });

      it('should only record the settings when it is changed back to alert_only', () => {
        const quiet = probe({ action: 'alert_only' });
        spec
          .given(history)
          .when(define(quiet))
          .then([defined(quiet, probe())]);
      });

      it('should act at once when its kill mode changes from hard to soft', () => {
        const soft = probe({ killMode: 'soft' });
        const reason = 'escalated to kill_switch while DOWN: test';
        spec
          .given(history)
          .when(define(soft))
          .then([
            defined(soft, probe()),
            superseded('kill_switch'),
            {
              type: 'AlertRaised',
              data: {
                alertId: 'probe:exchange:2',
                probeName: 'exchange',
                action: 'kill_switch',
                reason,
                at: T0,
              },
            },
            {
              type: 'KillSwitchRequested',
              data: { probeName: 'exchange', mode: 'soft', reason, consecutiveFailures: 3 },
            },
          ]);
      });

      it('should act at once when it changes from kill_switch to pause_engine for the same engine', () => {
        const killing = probe({ engineId: 'e1' });
        const paused = probe({ action: 'pause_engine', engineId: 'e1' });
        const reason = 'escalated to pause_engine while DOWN: test';
        spec
          .given([defined(killing), ...history.slice(1)])
          .when(define(paused))
          .then([
            defined(paused, killing),
            superseded('pause_engine'),
            {
              type: 'AlertRaised',
              data: {
                alertId: 'probe:exchange:2',
                probeName: 'exchange',
                engineId: 'e1',
                action: 'pause_engine',
                reason,
                at: T0,
              },
            },
          ]);
      });
    });

    it('should number the next alert after a recovery and a new outage', () => {
      const again = [...history, statusChanged('DOWN', 'UP', 0, 2)];
      const events = probeDecider.decide(check(false, failures(3)), state(again), undefined);
      expect(events[1]).toMatchObject({ type: 'AlertRaised', data: { alertId: 'probe:exchange:2' } });
    });
  });

  describe('Given an alert_only probe that is DOWN', () => {
    const quiet = probe({ action: 'alert_only' });
    const history = [defined(quiet), statusChanged('UNKNOWN', 'DOWN', 3, 0), alert(1, 'alert_only', 'down')];

    it('should act at once when an operator escalates it to kill_switch, resolving the open alert before the new one', () => {
      const escalated = probe({ action: 'kill_switch', engineId: 'e1' });
      const reason = 'escalated to kill_switch while DOWN: test';
      spec
        .given(history)
        .when(define(escalated))
        .then([
          defined(escalated, quiet),
          {
            type: 'AlertResolved',
            data: {
              alertId: 'probe:exchange:1',
              probeName: 'exchange',
              reason: 'superseded by probe:exchange:2: escalated to kill_switch',
              at: T0,
            },
          },
          {
            type: 'AlertRaised',
            data: {
              alertId: 'probe:exchange:2',
              probeName: 'exchange',
              engineId: 'e1',
              action: 'kill_switch',
              reason,
              at: T0,
            },
          },
          {
            type: 'KillSwitchRequested',
            data: { probeName: 'exchange', engineId: 'e1', mode: 'hard', reason, consecutiveFailures: 3 },
          },
        ]);
    });

    it.each([
      ['the failures counted so far', { consecutiveFailures: 7 }, 7],
      [
        'the threshold that took it DOWN when none are counted (a restart, a pass since)',
        { consecutiveFailures: 0 },
        3,
      ],
      ['the threshold that took it DOWN, not the new one, when the service gives no count', {}, 3],
    ])('should report in its kill switch request %s', (_, extra, reported) => {
      const escalated = probe({ action: 'kill_switch', engineId: 'e1', failureThreshold: 10 });
      const events = probeDecider.decide(define(escalated, extra), state(history), undefined);
      expect(events.at(-1)).toMatchObject({
        type: 'KillSwitchRequested',
        data: { consecutiveFailures: reported },
      });
    });

    it('should raise the alert a pause_engine escalation needs (the service pauses the engine on it)', () => {
      const escalated = probe({ action: 'pause_engine', engineId: 'e1' });
      const events = probeDecider.decide(define(escalated), state(history), undefined);
      expect(events.map((e) => e.type)).toEqual(['ProbeDefined', 'AlertResolved', 'AlertRaised']);
    });

    it('should leave only the newest alert open after escalating twice, and let only it be acknowledged', () => {
      const paused = probe({ action: 'pause_engine', engineId: 'e1' });
      const once = [...history, ...probeDecider.decide(define(paused), state(history), undefined)];
      const twice = probeDecider.decide(define(probe({ engineId: 'e1' })), state(once), undefined);

      expect(twice.slice(1, 3)).toMatchObject([
        { type: 'AlertResolved', data: { alertId: 'probe:exchange:2' } },
        { type: 'AlertRaised', data: { alertId: 'probe:exchange:3' } },
      ]);
      expect(state(once)).toMatchObject({ alert: { alertId: 'probe:exchange:2', resolvedAt: null } });
      expect(state([...once, ...twice])).toMatchObject({
        alert: { alertId: 'probe:exchange:3', resolvedAt: null },
        alertCount: 3,
      });
      spec
        .given([...once, ...twice])
        .when(ack('probe:exchange:2'))
        .thenThrows(NotFoundError, (e) => expect(e.code).toBe('CANARY.ALERT_UNKNOWN'));
    });

    it('should not resolve an alert again that is already resolved', () => {
      const resolved: ProbeEvent = {
        type: 'AlertResolved',
        data: { alertId: 'probe:exchange:1', probeName: 'exchange', reason: 'gone', at: T1 },
      };
      const events = probeDecider.decide(
        define(probe({ action: 'kill_switch' })),
        state([...history, resolved]),
        undefined,
      );
      expect(events.map((e) => e.type)).toEqual(['ProbeDefined', 'AlertRaised', 'KillSwitchRequested']);
    });

    it('should only record the settings for a change that does not act at the gate', () => {
      spec
        .given(history)
        .when(define(probe({ action: 'alert_only', timeoutMs: 50 })))
        .then([defined(probe({ action: 'alert_only', timeoutMs: 50 }), quiet)]);
    });
  });

  describe('Given an UNKNOWN probe (never checked)', () => {
    it('should come UP on its first pass', () => {
      spec
        .given([defined(probe())])
        .when(check(true, passes(1)))
        .then([statusChanged('UNKNOWN', 'UP', 0, 1)]);
    });

    it('should only alert for an alert_only probe', () => {
      const events = probeDecider.decide(
        check(false, failures(3)),
        state([defined(probe({ action: 'alert_only' }))]),
        undefined,
      );
      expect(events.map((e) => e.type)).toEqual(['ProbeStatusChanged', 'AlertRaised']);
    });
  });

  describe('defining, redefining and removing', () => {
    it('should change nothing for the same settings, and record the previous ones on a change', () => {
      spec
        .given([defined(probe())])
        .when(define(probe()))
        .thenNothingHappened();
      spec
        .given([defined(probe())])
        .when(define(probe({ failureThreshold: 5 })))
        .then([defined(probe({ failureThreshold: 5 }), probe())]);
    });

    it('should refuse a system actor removing a probe (only operators remove them)', () => {
      spec
        .given([defined(probe())])
        .when({
          type: 'RemoveProbe',
          data: { probeName: 'exchange', actor: SYSTEM, reason: 'test', now: T1 },
        })
        .thenThrows(IllegalStateError, (e) => expect(e.code).toBe('CANARY.OPERATOR_REQUIRED'));
    });

    it('should not re-create a removed default probe', () => {
      const removed: ProbeEvent = {
        type: 'ProbeRemoved',
        data: { probeName: 'exchange', actor: OPERATOR, reason: 'not here', at: T1 },
      };
      spec
        .given([defined(probe()), removed])
        .when(define(probe(), { actor: SYSTEM, onlyIfNew: true }))
        .thenNothingHappened();
      spec
        .given([defined(probe()), removed])
        .when(check(false, failures(9)))
        .thenNothingHappened();
    });
  });

  describe('default probes', () => {
    it('should only alert, and probe NATS, Postgres and every service readiness', () => {
      const probes = defaultProbes({
        natsSubject: 'bifrost.rpc.canary.ping',
        postgres: '$DATABASE_URL',
        services: { gate: 'http://127.0.0.1:3001/', 'risk-guard': 'http://127.0.0.1:3002' },
      });
      expect(probes.map((p) => [p.name, p.kind, p.target])).toEqual([
        ['nats', 'nats', 'bifrost.rpc.canary.ping'],
        ['postgres', 'postgres', '$DATABASE_URL'],
        ['gate-ready', 'http', 'http://127.0.0.1:3001/health/ready'],
        ['risk-guard-ready', 'http', 'http://127.0.0.1:3002/health/ready'],
      ]);
      expect(new Set(probes.map((p) => p.action))).toEqual(new Set(['alert_only']));
      for (const p of probes)
        expect(p).toMatchObject({
          failureThreshold: 3,
          recoveryThreshold: 3,
          intervalMs: 10_000,
          timeoutMs: 2_000,
        });
      for (const p of probes)
        spec
          .given([])
          .when(define(p, { actor: SYSTEM, onlyIfNew: true }))
          .then([defined(p, null, SYSTEM)]);
    });
  });
});

function probe(overrides: Partial<ProbeConfig> = {}): ProbeConfig {
  return {
    name: 'exchange',
    kind: 'http',
    target: 'http://127.0.0.1:9999/health',
    intervalMs: 100,
    timeoutMs: 100,
    failureThreshold: 3,
    recoveryThreshold: 2,
    action: 'kill_switch',
    ...overrides,
  };
}

function define(
  p: ProbeConfig,
  extra: {
    actor?: typeof OPERATOR | typeof SYSTEM | { kind: 'engine'; id: string };
    onlyIfNew?: boolean;
    consecutiveFailures?: number;
  } = {},
): ProbeCommand {
  return {
    type: 'DefineProbe',
    data: {
      probe: p,
      actor: extra.actor ?? OPERATOR,
      reason: 'test',
      now: T0,
      ...(extra.onlyIfNew ? { onlyIfNew: true } : {}),
      ...(extra.consecutiveFailures === undefined ? {} : { consecutiveFailures: extra.consecutiveFailures }),
    },
  };
}

function defined(
  p: ProbeConfig,
  previous: ProbeConfig | null = null,
  actor = OPERATOR as typeof OPERATOR | typeof SYSTEM,
): ProbeEvent {
  return {
    type: 'ProbeDefined',
    data: { probeName: p.name, probe: p, previous, actor, reason: 'test', at: T0 },
  };
}

function failures(n: number): ProbeCounters {
  return { consecutiveFailures: n, consecutivePasses: 0 };
}

function passes(n: number): ProbeCounters {
  return { consecutiveFailures: 0, consecutivePasses: n };
}

function check(passed: boolean, counters: ProbeCounters, detail = passed ? 'ok' : 'HTTP 503'): ProbeCommand {
  return {
    type: 'RecordCheck',
    data: { probeName: 'exchange', passed, detail, latencyMs: 5, counters, now: T1 },
  };
}

function statusChanged(
  from: 'UNKNOWN' | 'UP' | 'DOWN',
  to: 'UNKNOWN' | 'UP' | 'DOWN',
  consecutiveFailures: number,
  consecutivePasses: number,
  detail = consecutivePasses > 0 ? 'ok' : 'HTTP 503',
  at = T1,
): ProbeEvent {
  return {
    type: 'ProbeStatusChanged',
    data: {
      probeName: 'exchange',
      from,
      to,
      consecutiveFailures,
      consecutivePasses,
      detail,
      latencyMs: 5,
      at,
    },
  };
}

function alert(n: number, action: ProbeConfig['action'], reason: string): ProbeEvent {
  return {
    type: 'AlertRaised',
    data: { alertId: `probe:exchange:${n}`, probeName: 'exchange', action, reason, at: T1 },
  };
}

function ack(alertId: string): ProbeCommand {
  return { type: 'AcknowledgeAlert', data: { alertId, actor: OPERATOR, reason: 'on it', now: T1 } };
}

function state(events: ProbeEvent[]): ProbeState {
  return fold(probeDecider, events);
}
