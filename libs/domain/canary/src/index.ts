export * from './probe.decider';
export * from './engine-heartbeat.decider';
export * from './default-probes';
