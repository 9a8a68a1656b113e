import type {
  AlertView,
  CanaryAlertAcknowledged,
  CanaryAlertRaised,
  CanaryAlertResolved,
  DataOf,
} from '@bifrost/contracts';
import { NotFoundError } from '@bifrost/event-sourcing';

/** What probes and watched engines share: their latest alert and how many they have raised. */
interface Alerting {
  readonly alert: AlertView | null;
  readonly alertCount: number;
}

/**
 * The alert an operator acknowledges must be the latest one of its probe or engine (an unknown id,
 * or an older one, already resolved when the next was raised, is CANARY.ALERT_UNKNOWN); null when it
 * is already acknowledged, so acknowledging twice changes nothing.
 */
export function alertToAcknowledge(alert: AlertView | null, alertId: string): AlertView | null {
  if (!alert || alert.alertId !== alertId)
    throw new NotFoundError(
      `${alertId} is not the latest alert of a defined probe or watched engine: only that one can be acknowledged`,
      { code: 'CANARY.ALERT_UNKNOWN', details: { alertId, latest: alert?.alertId ?? null } },
    );
  return alert.acknowledged ? null : alert;
}

export function withAlertRaised<S extends Alerting>(state: S, data: DataOf<typeof CanaryAlertRaised>): S {
  const { alertId, action, reason, at } = data;
  return {
    ...state,
    alertCount: state.alertCount + 1,
    alert: { alertId, action, reason, raisedAt: at, resolvedAt: null, acknowledged: null },
  };
}

export function withAlertAcknowledged<S extends Alerting>(
  state: S,
  data: DataOf<typeof CanaryAlertAcknowledged>,
): S {
  const { alertId, actor, reason, at } = data;
  if (state.alert?.alertId !== alertId) return state;
  return { ...state, alert: { ...state.alert, acknowledged: { actor, reason, at } } };
}

export function withAlertResolved<S extends Alerting>(state: S, data: DataOf<typeof CanaryAlertResolved>): S {
  const { alertId, at } = data;
  if (state.alert?.alertId !== alertId || state.alert.resolvedAt) return state;
  return { ...state, alert: { ...state.alert, resolvedAt: at } };
}

/** The latest alert if it is still open: it is resolved before the next one is raised. */
export function openAlert(state: Alerting): AlertView | null {
  return state.alert && !state.alert.resolvedAt ? state.alert : null;
}
