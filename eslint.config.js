// Flat ESLint config. Module boundaries (STYLE.md): domain libs stay pure; arrows point one way.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const nx = require('@nx/eslint-plugin');
const prettier = require('eslint-config-prettier');

const frameworkImports = [
  '@nestjs/*',
  '@nats-io/*',
  'typeorm',
  'pg',
  '@opentelemetry/*',
  'pino',
  'prom-client',
];

module.exports = tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/coverage/**', '.nx/**', 'tmp/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    // Decorator metadata makes some "type-only" imports runtime values (NestJS DI, @Ctx() types).
    languageOptions: { parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          banTransitiveDependencies: false,
          depConstraints: [
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:util'],
              bannedExternalImports: frameworkImports,
            },
            {
              sourceTag: 'type:util',
              onlyDependOnLibsWithTags: ['type:util', 'type:contracts'],
              bannedExternalImports: frameworkImports,
            },
            {
              sourceTag: 'type:contracts',
              onlyDependOnLibsWithTags: ['type:contracts'],
              bannedExternalImports: frameworkImports,
            },
            {
              sourceTag: 'type:infra',
              onlyDependOnLibsWithTags: ['type:infra', 'type:util', 'type:contracts', 'type:testing'],
            },
            {
              sourceTag: 'type:sdk',
              // type:testing only for the SDK's own specs.
              onlyDependOnLibsWithTags: ['type:util', 'type:contracts', 'type:testing'],
            },
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:domain',
                'type:infra',
                'type:util',
                'type:contracts',
                'type:testing',
              ],
            },
            {
              // What an engine author has: the SDK and the contracts' types.
              sourceTag: 'type:example',
              onlyDependOnLibsWithTags: ['type:sdk', 'type:contracts'],
            },
            {
              sourceTag: 'type:e2e',
              onlyDependOnLibsWithTags: [
                'type:sdk',
                'type:testing',
                'type:contracts',
                'type:util',
                'type:infra',
              ],
            },
            {
              sourceTag: 'type:testing',
              onlyDependOnLibsWithTags: ['*'],
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      'scripts/**/*.mjs',
      'bench/**/*.{ts,mjs}',
      'tools/**/*.{ts,mjs,cjs}',
      '**/*.cjs',
      'eslint.config.js',
    ],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: { 'no-console': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The benchmarks start services in-process (an app's module by path) beside their baselines:
    // they stand outside the module boundaries, which are about what the products may import.
    files: ['bench/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
);
