// Lint rules that guard what the compiler cannot: the workflow sandbox fence, type-only
// imports, and promises that nobody awaits.
const tseslint = require('typescript-eslint');
const { builtinModules } = require('node:module');

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**', 'jest.config.js', 'eslint.config.js', 'test/helpers/summary-reporter.js'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
    },
  },
  {
    // Workflows run in Temporal's deterministic sandbox: no I/O, no environment, no
    // libraries that do either. Activities are imported as types only.
    files: ['src/workflows/**/*.ts', 'src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'workflows and shared code run in the sandbox: no Node built-ins' })),
            ...['pg', 'express', 'zod', 'pino', 'nodemailer', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'].map((name) => ({
              name,
              message: 'not allowed in the workflow sandbox (do I/O in an activity)',
            })),
          ],
          patterns: [
            { group: ['**/db/**', '**/api/**', '**/dev/**', '**/merchant-sim/**', '**/platform/**', '**/clients/**', '**/cli/**'], message: 'not allowed in the workflow sandbox' },
            { group: ['**/activities', '**/activities/**'], allowTypeImports: true, message: 'import activities as types only (proxyActivities)' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'workflows read no environment: pass configuration in the input' }],
    },
  },
  {
    // Routes and handlers get domain results from a capability's gateway ("ended", a verdict,
    // WorkflowEngineUnavailable); only the gateway knows the Temporal SDK and its errors.
    files: ['src/api/**/*.ts'],
    ignores: ['**/gateway.ts', '**/*-gateway.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@temporalio/*'], message: 'only a gateway (src/api/<capability>/gateway.ts) imports the Temporal SDK' }] }],
    },
  },
);
