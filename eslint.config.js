import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // content/ holds generated MPEG-TS segments, whose .ts extension would otherwise be linted.
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'content/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
);
