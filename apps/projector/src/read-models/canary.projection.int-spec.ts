import { catalogue, type Actor, type Envelope } from '@bifrost/contracts';
import { createEnvelope } from '@bifrost/messaging';
import { publishAll, startProjectorHarness, type ProjectorHarness } from '../testing/projector.fixtures';

const OPERATOR = { kind: 'operator' as const, id: 'alice' };
const CANARY: Actor = { kind: 'system', id: 'canary' };
const T = (second: number) => `2026-11-21T12:00:${String(second).padStart(2, '0')}.000Z`;
const PROBE = {
  name: 'exchange',
  kind: 'http',
  target: 'http://127.0.0.1:9/health',
  intervalMs: 1000,
  timeoutMs: 500,
  failureThreshold: 3,
  recoveryThreshold: 2,
  action: 'kill_switch',
};

describe('canary read models against real NATS and Postgres', () => {
  let h: ProjectorHarness;
  let story: Envelope[];

  beforeAll(async () => {
    h = await startProjectorHarness('projcan');
    h.startProjector();
    story = canaryStory();
    // One at a time: the story's order is the stream's order.
    await publishAll(h.client, story, 1);
    await h.caughtUp();
  });
  afterAll(() => h?.stop());

  it('should have published every canary event type in the catalogue', () => {
    const published = new Set(story.map((e) => e.type));
    const types = catalogue.definitions
      .filter((d) => d.kind !== 'ingest' && d.type.startsWith('canary.'))
      .map((d) => d.type);
    expect(types.filter((t) => !published.has(t))).toEqual([]);
  });

  it('should keep each probe with its settings and current status', async () => {
    expect(
      await h.rows(
        `SELECT probe_name, kind, action, status, status_since, removed FROM canary_probes ORDER BY 1`,
      ),
    ).toEqual([
      {
        probe_name: 'broker',
        kind: 'http',
        action: 'alert_only',
        status: 'UNKNOWN',
        status_since: null,
        removed: false,
      },
      {
        probe_name: 'exchange',
        kind: 'http',
        action: 'kill_switch',
        status: 'UP',
        status_since: new Date(T(9)),
        removed: false,
      },
      {
        probe_name: 'old',
        kind: 'http',
        action: 'kill_switch',
        status: 'UNKNOWN',
        status_since: null,
        removed: true,
      },
    ]);
  });

  it('should keep the status history of a probe', async () => {
    expect(
      await h.rows(
        `SELECT from_status, to_status, consecutive_failures, consecutive_passes, detail FROM canary_probe_history ORDER BY at`,
      ),
    ).toEqual([
      {
        from_status: 'UNKNOWN',
        to_status: 'UP',
        consecutive_failures: 0,
        consecutive_passes: 1,
        detail: 'ok',
      },
      {
        from_status: 'UP',
        to_status: 'DOWN',
        consecutive_failures: 3,
        consecutive_passes: 0,
        detail: 'HTTP 503',
      },
      { from_status: 'DOWN', to_status: 'UP', consecutive_failures: 0, consecutive_passes: 2, detail: 'ok' },
    ]);
  });

  it('should keep alerts, resolved on recovery, a fresh heartbeat, removal or AlertResolved, with who acknowledged them', async () => {
    expect(
      await h.rows(
        `SELECT alert_id, probe_name, engine_id, action, resolved_at, acknowledged_by->>'id' AS acked_by
         FROM canary_alerts ORDER BY raised_at`,
      ),
    ).toEqual([
      {
        alert_id: 'probe:old:1',
        probe_name: 'old',
        engine_id: null,
        action: 'alert_only',
        resolved_at: new Date(T(1)),
        acked_by: null,
      },
      {
        alert_id: 'probe:exchange:1',
        probe_name: 'exchange',
        engine_id: null,
        action: 'kill_switch',
        resolved_at: new Date(T(9)),
        acked_by: 'alice',
      },
      // Superseded when the probe was escalated while DOWN.
      {
        alert_id: 'probe:broker:1',
        probe_name: 'broker',
        engine_id: 'e1',
        action: 'alert_only',
        resolved_at: new Date(T(15)),
        acked_by: null,
      },
      // Names engine e1, yet e1's fresh heartbeat does not end it: only its probe's recovery does.
      {
        alert_id: 'probe:broker:2',
        probe_name: 'broker',
        engine_id: 'e1',
        action: 'pause_engine',
        resolved_at: null,
        acked_by: null,
      },
      {
        alert_id: 'engine:e1:1',
        probe_name: null,
        engine_id: 'e1',
        action: 'pause_engine',
        resolved_at: new Date(T(30)),
        acked_by: null,
      },
      // Resolved when watching e3 was disabled while it was STALE.
      {
        alert_id: 'engine:e3:1',
        probe_name: null,
        engine_id: 'e3',
        action: 'pause_engine',
        resolved_at: new Date(T(24)),
        acked_by: null,
      },
    ]);
  });

  it('should keep the requests made of the gate with the probe that made them', async () => {
    expect(
      await h.rows(
        `SELECT kind, probe_name, engine_id, mode FROM canary_requests ORDER BY kind, engine_id, probe_name NULLS FIRST`,
      ),
    ).toEqual([
      { kind: 'engine-pause', probe_name: null, engine_id: 'e1', mode: null },
      { kind: 'engine-pause', probe_name: 'broker', engine_id: 'e1', mode: null },
      { kind: 'engine-pause', probe_name: null, engine_id: 'e3', mode: null },
      { kind: 'kill-switch', probe_name: 'exchange', engine_id: null, mode: 'hard' },
    ]);
  });

  it('should keep watched engines with their heartbeat policy', async () => {
    expect(
      await h.rows(
        `SELECT engine_id, status, allowed_gap_ms, auto_resume, enabled, stale_since, last_heartbeat_at, resume_requested_at
         FROM canary_engines ORDER BY engine_id`,
      ),
    ).toEqual([
      {
        engine_id: 'e1',
        status: 'ALIVE',
        allowed_gap_ms: 60000,
        auto_resume: true,
        enabled: true,
        stale_since: null,
        last_heartbeat_at: new Date(T(35)),
        resume_requested_at: expect.any(Date),
      },
      {
        engine_id: 'e2',
        status: 'OFFLINE',
        allowed_gap_ms: null,
        auto_resume: false,
        enabled: true,
        stale_since: null,
        last_heartbeat_at: new Date(T(13)),
        resume_requested_at: null,
      },
      // STALE, then disabled: never judged stale while disabled, so ALIVE again (the pause stays at the gate).
      {
        engine_id: 'e3',
        status: 'ALIVE',
        allowed_gap_ms: null,
        auto_resume: false,
        enabled: false,
        stale_since: null,
        last_heartbeat_at: new Date(T(12)),
        resume_requested_at: null,
      },
    ]);
  });

  it('should keep the summaries', async () => {
    expect(
      await h.rows(`SELECT from_at, to_at, probes->0->>'probeName' AS probe FROM canary_summaries`),
    ).toEqual([{ from_at: new Date(T(0)), to_at: new Date(T(40)), probe: 'exchange' }]);
  });

  function canaryStory(): Envelope[] {
    const event = (
      type: string,
      aggregate: string,
      id: string,
      data: Record<string, unknown>,
      actor = CANARY,
    ) =>
      createEnvelope({
        type: `canary.${type}`,
        subject: h.ns.naming.eventSubject('canary', aggregate, id),
        source: 'canary',
        actor,
        data,
      });
    const probe = (type: string, data: Record<string, unknown>, actor = CANARY) =>
      event(type, 'probe', 'exchange', data, actor);
    const engine = (type: string, data: Record<string, unknown>, actor = CANARY) =>
      event(type, 'engine', 'e1', { engineId: 'e1', ...data }, actor);
    const changed = (
      from: string,
      to: string,
      failures: number,
      passes: number,
      detail: string,
      at: string,
    ) =>
      probe('ProbeStatusChanged', {
        probeName: 'exchange',
        from,
        to,
        consecutiveFailures: failures,
        consecutivePasses: passes,
        detail,
        latencyMs: 3,
        at,
      });
    const staleThenDisabled = () => {
      const e3 = (type: string, data: Record<string, unknown>, actor = CANARY) =>
        event(type, 'engine', 'e3', { engineId: 'e3', ...data }, actor);
      return [
        e3('EngineWatched', { firstHeartbeatAt: T(12), at: T(12) }),
        e3('EngineWentStale', {
          lastHeartbeatAt: T(12),
          allowedGapMs: 30000,
          silentForMs: 30001,
          alertId: 'engine:e3:1',
          at: T(22),
        }),
        e3('AlertRaised', { alertId: 'engine:e3:1', action: 'pause_engine', reason: 'silent', at: T(22) }),
        e3('EnginePauseRequested', { reason: 'dead-man switch: silent' }),
        e3(
          'HeartbeatPolicySet',
          {
            allowedGapMs: null,
            autoResume: false,
            enabled: false,
            actor: OPERATOR,
            reason: 'switched off',
            at: T(24),
          },
          OPERATOR,
        ),
        e3(
          'AlertResolved',
          { alertId: 'engine:e3:1', reason: 'watching disabled by alice: switched off', at: T(24) },
          OPERATOR,
        ),
      ];
    };
    return [
      probe(
        'ProbeDefined',
        { probeName: 'exchange', probe: PROBE, previous: null, actor: OPERATOR, reason: 'new', at: T(0) },
        OPERATOR,
      ),
      event(
        'ProbeDefined',
        'probe',
        'old',
        {
          probeName: 'old',
          probe: { ...PROBE, name: 'old' },
          previous: null,
          actor: OPERATOR,
          reason: 'new',
          at: T(0),
        },
        OPERATOR,
      ),
      event(
        'AlertRaised',
        'probe',
        'old',
        { alertId: 'probe:old:1', probeName: 'old', action: 'alert_only', reason: 'down', at: T(0) },
        CANARY,
      ),
      event(
        'ProbeRemoved',
        'probe',
        'old',
        { probeName: 'old', actor: OPERATOR, reason: 'gone', at: T(1) },
        OPERATOR,
      ),
      changed('UNKNOWN', 'UP', 0, 1, 'ok', T(2)),
      changed('UP', 'DOWN', 3, 0, 'HTTP 503', T(5)),
      probe('AlertRaised', {
        alertId: 'probe:exchange:1',
        probeName: 'exchange',
        action: 'kill_switch',
        reason: '3 failures',
        at: T(5),
      }),
      probe('KillSwitchRequested', {
        probeName: 'exchange',
        mode: 'hard',
        reason: '3 failures',
        consecutiveFailures: 3,
      }),
      probe(
        'AlertAcknowledged',
        { alertId: 'probe:exchange:1', probeName: 'exchange', actor: OPERATOR, reason: 'seen', at: T(6) },
        OPERATOR,
      ),
      changed('DOWN', 'UP', 0, 2, 'ok', T(9)),
      event(
        'ProbeDefined',
        'probe',
        'broker',
        {
          probeName: 'broker',
          probe: { ...PROBE, name: 'broker', action: 'alert_only', engineId: 'e1' },
          previous: null,
          actor: OPERATOR,
          reason: 'new',
          at: T(0),
        },
        OPERATOR,
      ),
      event('AlertRaised', 'probe', 'broker', {
        alertId: 'probe:broker:1',
        probeName: 'broker',
        engineId: 'e1',
        action: 'alert_only',
        reason: 'down',
        at: T(14),
      }),
      event('AlertResolved', 'probe', 'broker', {
        alertId: 'probe:broker:1',
        probeName: 'broker',
        reason: 'superseded by probe:broker:2: escalated to pause_engine',
        at: T(15),
      }),
      event('AlertRaised', 'probe', 'broker', {
        alertId: 'probe:broker:2',
        probeName: 'broker',
        engineId: 'e1',
        action: 'pause_engine',
        reason: 'escalated to pause_engine while DOWN: now',
        at: T(15),
      }),
      engine('EnginePauseRequested', { reason: 'probe broker: down', probeName: 'broker' }),
      engine('EngineWatched', { firstHeartbeatAt: T(10), at: T(10) }),
      engine(
        'HeartbeatPolicySet',
        {
          allowedGapMs: 60000,
          autoResume: true,
          enabled: true,
          actor: OPERATOR,
          reason: 'slow engine',
          at: T(11),
        },
        OPERATOR,
      ),
      engine('EngineWentStale', {
        lastHeartbeatAt: T(10),
        allowedGapMs: 60000,
        silentForMs: 60001,
        alertId: 'engine:e1:1',
        at: T(20),
      }),
      engine('AlertRaised', { alertId: 'engine:e1:1', action: 'pause_engine', reason: 'silent', at: T(20) }),
      engine('EnginePauseRequested', { reason: 'dead-man switch: silent' }),
      engine('EngineHeartbeatRestored', { heartbeatAt: T(30), staleSince: T(20), at: T(30) }),
      engine('EngineResumeRequested', {
        reason: 'fresh heartbeat',
        authorizedBy: OPERATOR,
        authorizedAt: T(11),
      }),
      engine('EngineSignedOff', { heartbeatAt: T(32), at: T(32) }),
      engine('EngineSignedOn', { heartbeatAt: T(35), signedOffAt: T(32), at: T(35) }),
      event('EngineWatched', 'engine', 'e2', { engineId: 'e2', firstHeartbeatAt: T(12), at: T(12) }, CANARY),
      event('EngineSignedOff', 'engine', 'e2', { engineId: 'e2', heartbeatAt: T(13), at: T(13) }, CANARY),
      ...staleThenDisabled(),
      event('SummaryReported', 'summary', '2026-11-21', {
        from: T(0),
        to: T(40),
        probes: [{ probeName: 'exchange', status: 'UP', checks: 40, failures: 3, consecutiveFailures: 0 }],
        engines: [
          { engineId: 'e1', status: 'ALIVE' },
          { engineId: 'e2', status: 'OFFLINE' },
        ],
      }),
    ];
  }
});
