// ESLint flat config: typescript-eslint's recommended rules and the house limits for src/ (about 450
// lines a file, 80 a function). Formatting is Prettier's (@oclif/prettier-config); import cycles are
// dependency-cruiser's (.dependency-cruiser.cjs), which also sees `import type` and `import()` edges.
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'bench/minimal-oclif*/**', 'test/fixtures/**', '.secrets-test-*/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {globals: {...globals.node}},
    linterOptions: {reportUnusedDisableDirectives: 'error'},
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none'},
      ],
      '@typescript-eslint/consistent-type-imports': ['error', {fixStyle: 'inline-type-imports'}],
      'no-empty': ['error', {allowEmptyCatch: true}],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', {max: 450, skipBlankLines: true, skipComments: true}],
      'max-lines-per-function': ['error', {max: 80, skipBlankLines: true, skipComments: true, IIFEs: true}],
    },
  },
  {
    // The protocol test servers take apart whatever JSON a client sends, as the real services do.
    files: ['test/servers/**/*.ts'],
    rules: {'@typescript-eslint/no-explicit-any': 'off'},
  },
  prettier,
)
