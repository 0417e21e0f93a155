// ESLint flat config: @eslint/js and typescript-eslint recommended rules (type-aware for src/), plus
// the architecture's hard lines (ARCHITECTURE.md "What must never be") as import restrictions.
// Formatting is Prettier's job (.prettierrc.json), not ESLint's.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const SDKS = ['@azure/*', '@kubernetes/*', '@actions/*'];

export default defineConfig([
  globalIgnores(['dist/', 'node_modules/', '.tmp/', 'coverage/', '**/*.min.js']),

  js.configs.recommended,
  tseslint.configs.recommended,

  {
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
      'prefer-const': 'error',
      // `import('…').T` annotations stay allowed: they name a lazily loaded SDK's types without loading it
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },

  // The product: type-aware rules catch the promise mistakes that lose errors in an action.
  {
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/emulator/*', '**/emulator'], message: 'src/ must not depend on its test bed (ARCHITECTURE.md).' }] },
      ],
    },
  },

  // Pure modules: no SDK, no I/O (ARCHITECTURE.md).
  {
    files: ['src/inputs.ts', 'src/settings.ts', 'src/kube/render.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: SDKS, message: 'a pure module imports no SDK (ARCHITECTURE.md).' },
            {
              group: ['node:fs', 'node:http', 'node:https', 'node:net', 'node:child_process'],
              message: 'a pure module does no I/O (ARCHITECTURE.md).',
            },
            { group: ['**/emulator/*', '**/emulator'], message: 'src/ must not depend on its test bed (ARCHITECTURE.md).' },
          ],
        },
      ],
    },
  },

  // Scenarios return a Result; only report.ts and the runner speak to @actions/core.
  {
    files: ['src/scenarios/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@actions/*'], message: 'a scenario returns a Result; src/report.ts speaks to the runner (ARCHITECTURE.md).' },
            { group: ['**/emulator/*', '**/emulator'], message: 'src/ must not depend on its test bed (ARCHITECTURE.md).' },
          ],
        },
      ],
    },
  },

  // Tests, the emulator, scripts and benchmarks: Node programs, looser about test doubles.
  {
    files: ['__tests__/**/*.ts', 'emulator/**/*.{ts,mjs}', 'scripts/**/*.{ts,mjs}', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
]);
