export * from './compose';
export * from './approval';
