export * from './ajv';
export * from './naming';
export * from './envelope';
export * from './errors';
export * from './registry';
export * from './catalogue';
export * from './messages/system.messages';
export * from './asyncapi';
