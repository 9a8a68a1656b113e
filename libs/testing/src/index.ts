export * from './infra';
export * from './ports';
export * from './postgres';
export * from './nats';
export * from './tcp-proxy';
export * from './wait-for';
export * from './services';
export * from './service-instances';
