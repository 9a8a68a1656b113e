// Shared jest settings: TypeScript through @swc/jest with decorator metadata (NestJS DI needs it).
const path = require('node:path');

/** @param {string} projectDir absolute path of the project using this preset */
module.exports = (projectDir, overrides = {}) => ({
  displayName: path.relative(__dirname, projectDir),
  rootDir: projectDir,
  testEnvironment: 'node',
  testMatch: [
    '<rootDir>/src/**/*.spec.ts',
    '<rootDir>/src/**/*.int-spec.ts',
    '<rootDir>/src/**/*.e2e-spec.ts',
  ],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  ...overrides,
});
