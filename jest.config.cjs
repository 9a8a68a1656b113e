// Root jest config: every project's own jest.config.cjs, run together (`npm test`).
module.exports = {
  projects: [
    '<rootDir>/libs/*/jest.config.cjs',
    '<rootDir>/libs/domain/*/jest.config.cjs',
    '<rootDir>/apps/*/jest.config.cjs',
  ],
};
