// Public API of the governance domain: each module adds its export line here.
export * from './command-metrics';
export * from './breaker-rules';
export * from './readiness';
export * from './phases';
export * from './governance.decider';
export * from './cycle';
