export * from './control';
export * from './classifiers';
export * from './compose';
export * from './strategy';
