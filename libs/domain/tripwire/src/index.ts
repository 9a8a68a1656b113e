export * from './kpi-window';
export * from './tripwire-policy.decider';
