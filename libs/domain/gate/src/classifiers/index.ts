export * from './impact';
export * from './risk-level';
