export * from './infra';
export * from './postgres';
export * from './nats';
export * from './tcp-proxy';
export * from './wait-for';
