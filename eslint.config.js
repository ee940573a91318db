// `npm run lint` (with dependency-cruiser, .dependency-cruiser.cjs): typescript-eslint's
// type-aware recommended rules over src/, test/, bench/ and scripts/. Every rule turned off or
// relaxed below says why. No file is excepted.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/baseline/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // One program from tsconfig.json for every file it includes (src, test, bench): on this
      // project about 5 s faster than the project service, which updates its project per file.
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() and their hooks return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      // Async methods that do not await implement async interfaces over synchronous drivers
      // (HssStore over better-sqlite3, the in-memory Diameter transport): being async keeps the
      // interface's contract that a failure is a rejection, never a synchronous throw.
      '@typescript-eslint/require-await': 'off',
      // Re-rejecting a caught value (`catch (err) { return Promise.reject(err); }`) passes it on unchanged.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // `const { ik: _ik, ...rest } = x` drops fields on purpose; `_name` marks an unused parameter.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Tests read untyped JSON (process output, REST answers, corpus and vector files) and check
    // its shape with assertions: that check is the test, so `any` from JSON.parse is accepted there.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // CommonJS configuration files (dependency-cruiser's): require() is how they import.
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
