import type {
  Actor,
  DataOf,
  TripwireAction,
  TripwireKillScope,
  TripwireKpiRecorded,
  TripwirePolicyConfig,
  TripwirePolicyDefined,
  TripwirePolicyDisabled,
  TripwirePolicyEnabled,
  TripwirePolicyView,
  TripwireReset,
  TripwireTriggered,
} from '@bifrost/contracts';
import { IllegalStateError, NotFoundError, ValidationError, type Decider } from '@bifrost/event-sourcing';
import { appendOutcome, evaluateWindow, trimOutcomes, type WindowEvaluation } from './kpi-window';

export const DEFAULT_CONFIDENCE = 0.95;
/**
 * A policy is disabled until an operator enables it, seeded or new (seed 000, graceful degradation:
 * "Regression policies default: disabled (require explicit enable)").
 */
export const DEFAULT_ENABLED = false;
/**
 * Redelivered KPIs are recognised among this many last ids per engine (and, beyond them, by their
 * ingest stream sequence: {@link EngineWindow.lastIngest}).
 */
const REMEMBERED_KPI_IDS = 32;

/** Where the last KPI recorded sat in the ingest stream. */
export interface IngestPosition {
  readonly sequence: number;
  /** When the ingest stream was created: a recreated stream numbers its KPIs from 1 again. */
  readonly streamCreated: string;
}

/** One engine's windows of one policy. */
export interface EngineWindow {
  /** `1`/`0` per KPI event, oldest first, at most N + M. */
  readonly outcomes: string;
  /** Events recorded since the last reset. */
  readonly observed: number;
  readonly triggered: null | { readonly at: string; readonly action: TripwireAction };
  readonly recentKpiIds: readonly string[];
  /**
   * The ingest position of the last KPI recorded that carried one. The KPI consumer is ordered, so
   * a KPI at or below it in the same stream is a redelivery: a replay of the whole stream (its
   * durable consumer lost and recreated) would otherwise record every KPI older than the last 32
   * ids again.
   */
  readonly lastIngest: IngestPosition | null;
}

export type TripwirePolicy = TripwirePolicyConfig & { readonly policyId: string; readonly updatedAt: string };

/** One policy aggregate (`bifrost.evt.tripwire.policy.<policyId>`) with every engine's windows. */
export type TripwireState =
  | { status: 'absent' }
  | { status: 'defined'; policy: TripwirePolicy; engines: Record<string, EngineWindow> };

interface Operator {
  readonly policyId: string;
  readonly actor: Actor;
  readonly reason: string;
  readonly now: string;
}

export type TripwireCommand =
  | {
      type: 'DefinePolicy';
      /**
       * `enabled`, `confidence` and `killScope` left out keep the policy's own (a new policy's defaults): read
       * here, under the policy's lock, so a change racing an enable or disable does not undo it.
       */
      data: Operator & {
        policy: Omit<TripwirePolicyConfig, 'enabled' | 'confidence' | 'killScope'> &
          Partial<Pick<TripwirePolicyConfig, 'enabled' | 'confidence' | 'killScope'>>;
      };
    }
  | { type: 'EnablePolicy'; data: Operator }
  | { type: 'DisablePolicy'; data: Operator }
  | {
      type: 'RecordKpi';
      data: {
        policyId: string;
        engineId: string;
        success: boolean;
        value?: number;
        kpiId: string;
        /** Absent for a KPI that did not come from the ingest stream (then only its id is checked). */
        ingest?: IngestPosition;
        now: string;
      };
    }
  | { type: 'ResetTripwire'; data: Operator & { engineId: string } }
  | { type: 'EvaluatePolicy'; data: { policyId: string; now: string } };

export type TripwireEvent =
  | { type: 'PolicyDefined'; data: DataOf<typeof TripwirePolicyDefined> }
  | { type: 'PolicyEnabled'; data: DataOf<typeof TripwirePolicyEnabled> }
  | { type: 'PolicyDisabled'; data: DataOf<typeof TripwirePolicyDisabled> }
  | { type: 'KpiRecorded'; data: DataOf<typeof TripwireKpiRecorded> }
  | { type: 'TripwireTriggered'; data: DataOf<typeof TripwireTriggered> }
  | { type: 'TripwireReset'; data: DataOf<typeof TripwireReset> };

/** One policy per (domain, metric); subject tokens cannot hold dots, hence the dash. */
export function tripwirePolicyId(domain: string, metric: string): string {
  return `${domain}-${metric}`;
}

const EMPTY_WINDOW: EngineWindow = {
  outcomes: '',
  observed: 0,
  triggered: null,
  recentKpiIds: [],
  lastIngest: null,
};

export const tripwireDecider: Decider<TripwireState, TripwireCommand, TripwireEvent, unknown> = {
  // 2: windows keep the last KPI's ingest position.
  stateVersion: 2,
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    if (command.type === 'DefinePolicy') {
      const { policyId, actor, reason, now } = command.data;
      const kept = state.status === 'defined' ? state.policy : undefined;
      const policy: TripwirePolicyConfig = {
        ...command.data.policy,
        // A change keeps the policy's flag; a new policy waits for an explicit enable (seed 000).
        enabled: command.data.policy.enabled ?? kept?.enabled ?? DEFAULT_ENABLED,
        confidence: command.data.policy.confidence ?? kept?.confidence ?? DEFAULT_CONFIDENCE,
        killScope: command.data.policy.killScope ?? kept?.killScope ?? 'engine',
      };
      const smaller = Math.min(policy.recentWindow, policy.baselineWindow);
      if (policy.minEvents > smaller) {
        throw new ValidationError(
          `minEvents ${policy.minEvents} is more than the ${policy.recentWindow === smaller ? 'recent' : 'baseline'} window holds (${smaller}): the policy could never trip`,
          { code: 'TRIPWIRE.POLICY_INVALID', details: { minEvents: policy.minEvents, window: smaller } },
        );
      }
      const previous = state.status === 'defined' ? configOf(state.policy) : null;
      if (previous && sameConfig(previous, policy)) return [];
      return [{ type: 'PolicyDefined', data: { policyId, policy, previous, actor, reason, at: now } }];
    }
    if (state.status === 'absent') {
      throw new NotFoundError(`no tripwire policy ${command.data.policyId}`, {
        code: 'TRIPWIRE.POLICY_UNKNOWN',
        details: { policyId: command.data.policyId },
      });
    }
    const { policy, engines } = state;
    switch (command.type) {
      case 'EnablePolicy':
      case 'DisablePolicy': {
        const { policyId, actor, reason, now } = command.data;
        const enable = command.type === 'EnablePolicy';
        if (policy.enabled === enable) return [];
        const data = { policyId, actor, reason, at: now };
        return [enable ? { type: 'PolicyEnabled', data } : { type: 'PolicyDisabled', data }];
      }
      case 'RecordKpi': {
        const { policyId, engineId, success, value, kpiId, ingest, now } = command.data;
        const window = engines[engineId] ?? EMPTY_WINDOW;
        if (window.recentKpiIds.includes(kpiId) || replayed(window, ingest)) {
          // Its trip is the second event of one append: if the append stopped between the two, the
          // redelivered KPI completes it, decided on the state this KPI left (it is the last one
          // recorded), rather than leave the regression untripped until the next KPI.
          const last = window.recentKpiIds[window.recentKpiIds.length - 1];
          return last === kpiId ? trip(policy, engineId, window, now) : [];
        }
        const recorded: TripwireEvent = {
          type: 'KpiRecorded',
          data: {
            policyId,
            engineId,
            success,
            ...(value === undefined ? {} : { value }),
            kpiId,
            ...(ingest ? { ingestSequence: ingest.sequence, ingestStreamCreated: ingest.streamCreated } : {}),
            at: now,
          },
        };
        const next = recordInto(window, recorded.data, policy);
        return [recorded, ...trip(policy, engineId, next, now)];
      }
      case 'EvaluatePolicy':
        return Object.keys(engines)
          .sort()
          .flatMap((engineId) => trip(policy, engineId, engines[engineId] ?? EMPTY_WINDOW, command.data.now));
      case 'ResetTripwire': {
        const { policyId, engineId, actor, reason, now } = command.data;
        const window = engines[engineId];
        // A mistyped engine id must not look like a reset that worked.
        if (!window) {
          throw new NotFoundError(`no KPI of ${engineId} for tripwire policy ${policyId}`, {
            code: 'TRIPWIRE.ENGINE_UNKNOWN',
            details: { policyId, engineId },
          });
        }
        if (window.observed === 0 && !window.triggered) return [];
        return [
          {
            type: 'TripwireReset',
            data: { policyId, engineId, wasTriggered: window.triggered !== null, actor, reason, at: now },
          },
        ];
      }
      default: {
        const unknown: never = command;
        throw new IllegalStateError(`unknown command ${JSON.stringify(unknown)}`);
      }
    }
  },

  evolve(state, event) {
    if (event.type === 'PolicyDefined') {
      const { policyId, policy, at } = event.data;
      const capacity = policy.recentWindow + policy.baselineWindow;
      const engines = state.status === 'defined' ? state.engines : {};
      return {
        status: 'defined',
        policy: { ...policy, policyId, updatedAt: at },
        engines: Object.fromEntries(
          Object.entries(engines).map(([id, w]) => [
            id,
            { ...w, outcomes: trimOutcomes(w.outcomes, capacity) },
          ]),
        ),
      };
    }
    if (state.status === 'absent') return state;
    const { policy, engines } = state;
    switch (event.type) {
      case 'PolicyEnabled':
      case 'PolicyDisabled':
        return {
          ...state,
          policy: { ...policy, enabled: event.type === 'PolicyEnabled', updatedAt: event.data.at },
        };
      case 'KpiRecorded': {
        const window = engines[event.data.engineId] ?? EMPTY_WINDOW;
        return {
          ...state,
          engines: { ...engines, [event.data.engineId]: recordInto(window, event.data, policy) },
        };
      }
      case 'TripwireTriggered': {
        const { engineId, action } = event.data;
        const window = engines[engineId] ?? EMPTY_WINDOW;
        const at = event.data.triggeredAt ?? policy.updatedAt;
        return { ...state, engines: { ...engines, [engineId]: { ...window, triggered: { at, action } } } };
      }
      case 'TripwireReset': {
        const window = engines[event.data.engineId] ?? EMPTY_WINDOW;
        // Re-baseline: the windows refill from events after the reset.
        const reset = { ...EMPTY_WINDOW, recentKpiIds: window.recentKpiIds, lastIngest: window.lastIngest };
        return { ...state, engines: { ...engines, [event.data.engineId]: reset } };
      }
      default: {
        const _exhaustive: never = event;
        return state;
      }
    }
  },
};

/** The current evaluation of one engine's windows (for views, metrics and evaluate-now replies). */
export function evaluateEngine(policy: TripwirePolicy, window: EngineWindow): WindowEvaluation {
  return evaluateWindow(window.outcomes, window.observed, policy);
}

function trip(policy: TripwirePolicy, engineId: string, window: EngineWindow, now: string): TripwireEvent[] {
  if (!policy.enabled || window.triggered) return [];
  const { result, evidence } = evaluateEngine(policy, window);
  if (result !== 'TRIPPED') return [];
  const { baseline, recent, dropPct, zScore, pValue } = evidence;
  return [
    {
      type: 'TripwireTriggered',
      data: {
        policyId: policy.policyId,
        engineId,
        action: policy.action,
        ...(policy.action === 'KILL_SWITCH' ? { killScope: policy.killScope ?? 'engine' } : {}),
        reason:
          `${policy.domain} ${policy.metric} dropped ${dropPct?.toFixed(1)} % ` +
          `(${baseline.rate.toFixed(3)} → ${recent.rate.toFixed(3)}, ` +
          // No z: an expected count below 5, Fisher's exact test decided (kpi-window.ts).
          `${zScore === null ? 'Fisher exact ' : ''}p=${pValue?.toExponential(2)}) > ${policy.maxDropPct} %`,
        domain: policy.domain,
        metric: policy.metric,
        evidence,
        triggeredAt: now,
      },
    },
  ];
}

/** At or below the last KPI recorded from the same ingest stream: the consumer delivers in order. */
function replayed(window: EngineWindow, ingest: IngestPosition | undefined): boolean {
  const last = window.lastIngest;
  return (
    ingest !== undefined &&
    last !== null &&
    ingest.streamCreated === last.streamCreated &&
    ingest.sequence <= last.sequence
  );
}

function recordInto(
  window: EngineWindow,
  kpi: Pick<
    DataOf<typeof TripwireKpiRecorded>,
    'success' | 'kpiId' | 'ingestSequence' | 'ingestStreamCreated'
  >,
  policy: TripwirePolicyConfig,
): EngineWindow {
  const { ingestSequence: sequence, ingestStreamCreated: streamCreated } = kpi;
  return {
    ...window,
    outcomes: appendOutcome(window.outcomes, kpi.success, policy.recentWindow + policy.baselineWindow),
    observed: window.observed + 1,
    recentKpiIds: [...window.recentKpiIds, kpi.kpiId].slice(-REMEMBERED_KPI_IDS),
    // A KPI recorded without a position (older events) leaves the last one known.
    lastIngest:
      sequence !== undefined && streamCreated !== undefined ? { sequence, streamCreated } : window.lastIngest,
  };
}

function configOf(policy: TripwirePolicy): TripwirePolicyConfig {
  const { policyId: _id, updatedAt: _at, ...config } = policy;
  // A policy defined before kill scopes existed stops the engine, as it always did.
  return { ...config, killScope: config.killScope ?? 'engine' };
}

function sameConfig(a: TripwirePolicyConfig, b: TripwirePolicyConfig): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof TripwirePolicyConfig)[]);
  return [...keys].every((k) => a[k] === b[k]);
}

const seed = (
  domain: string,
  metric: string,
  recentWindow: number,
  baselineWindow: number,
  maxDropPct: number,
  minEvents: number,
  action: TripwireAction,
  killScope: TripwireKillScope = 'engine',
): TripwirePolicyConfig => ({
  domain,
  metric,
  recentWindow,
  baselineWindow,
  maxDropPct,
  minEvents,
  action,
  killScope,
  enabled: DEFAULT_ENABLED,
  confidence: DEFAULT_CONFIDENCE,
});

/**
 * The policies seeded on first start: the four (domain, metric) pairs of seed 000 lever 4, each
 * disabled ({@link DEFAULT_ENABLED}) until an operator enables it. The seed names no window sizes or
 * thresholds; these are ours (docs/tripwire.md).
 */
export const SEED_TRIPWIRE_POLICIES: readonly TripwirePolicyConfig[] = [
  seed('WHOLESALE', 'contract_rate', 100, 500, 30, 50, 'THROTTLE'),
  seed('WHOLESALE', 'offer_accept_rate', 200, 1_000, 25, 100, 'THROTTLE'),
  seed('BUYER_MATCH', 'match_success', 200, 1_000, 20, 100, 'THROTTLE'),
  // Seed 000: "auto-KILL_SWITCH (engage global kill)".
  seed('CAPITAL', 'roi_event', 50, 250, 40, 30, 'KILL_SWITCH', 'global'),
];

/** The commands that seed {@link SEED_TRIPWIRE_POLICIES} at `now`. */
export function seedTripwireCommands(now: string): TripwireCommand[] {
  return SEED_TRIPWIRE_POLICIES.map((policy) => ({
    type: 'DefinePolicy',
    data: {
      policyId: tripwirePolicyId(policy.domain, policy.metric),
      policy,
      actor: { kind: 'system', id: 'seed' },
      reason: 'first start',
      now,
    },
  }));
}

/** What operators see of one policy: its settings and every engine's state and current evaluation. */
export function tripwirePolicyView(
  policy: TripwirePolicy,
  engines: Record<string, EngineWindow>,
): TripwirePolicyView {
  return {
    ...configOf(policy),
    policyId: policy.policyId,
    updatedAt: policy.updatedAt,
    engines: Object.keys(engines)
      .sort()
      .map((engineId) => {
        const window = engines[engineId] ?? EMPTY_WINDOW;
        const { result, evidence } = evaluateEngine(policy, window);
        return {
          engineId,
          observed: window.observed,
          triggered: window.triggered,
          evaluation: { policyId: policy.policyId, engineId, result, evidence },
        };
      }),
  };
}
