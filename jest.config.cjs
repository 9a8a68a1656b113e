// Root jest config: every project's own jest.config.cjs, run together (`npm test`).
module.exports = {
  // Integration specs start services and child processes on a 2-core CI machine shared by two
  // workers; they wait on positions with their own bounds, so the per-test ceiling is generous.
  testTimeout: 30_000,
  projects: [
    '<rootDir>/libs/*/jest.config.cjs',
    '<rootDir>/libs/domain/*/jest.config.cjs',
    '<rootDir>/apps/*/jest.config.cjs',
    '<rootDir>/e2e/jest.config.cjs',
  ],
};
