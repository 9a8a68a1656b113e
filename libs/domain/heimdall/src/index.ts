export * from './scorecard';
export * from './evaluation';
export * from './heimdall-domain.decider';
