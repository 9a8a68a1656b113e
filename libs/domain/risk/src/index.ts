export * from './bucket-map';
export * from './day-key';
export * from './risk-policy.decider';
export * from './risk-ledger.state';
export * from './risk-ledger.decider';
export * from './risk-ledger.views';
