// @ts-check
/**
 * ESLint flat config (see shared/STYLE.md "Lint" and "Allowed imports").
 *
 * - every .ts file is linted with type information (typescript-eslint `recommendedTypeChecked`,
 *   `projectService` picks tsconfig.json, which covers apps/, libs/, test/ and bench/);
 * - the architecture is enforced with per-folder `no-restricted-imports` overrides. ESLint flat config
 *   does not merge the options of a rule set in two matching blocks (the last one wins), so each block
 *   below repeats the restrictions of the wider scopes: see `restrict(...)`;
 * - eslint-config-prettier comes last and turns off every rule that would fight with Prettier.
 */
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const TS = ['**/*.ts'];
const TESTS = [
  '**/*.spec.ts',
  '**/*.int-spec.ts',
  '**/*.e2e-spec.ts',
  'test/**/*.ts',
  '**/test/**/*.ts',
];

/* ---------- architecture: import restrictions ---------- */

/** Everywhere: a lib is imported through its `@app/<lib>` alias, never by reaching into its folders. */
const EVERYWHERE = [
  {
    group: ['@app/*/*'],
    message:
      'Import a lib through its public entry `@app/<lib>` (its src/index.ts), not a deep path.',
  },
  {
    regex: '^(\\./|(\\.\\./)+)?libs/',
    message: 'Import a lib through its `@app/<lib>` alias, not by a path into libs/.',
  },
  {
    regex:
      '^(\\.\\./)+(common|workflows|engine|persistence|scheduling|notifications|calendar|auth|runtime)/src(/|$)',
    message:
      'Import another lib through its `@app/<lib>` alias, not by a relative path into its src/.',
  },
];

/** In libs/**: the dependency direction is apps -> libs, never the reverse; only libs/runtime wires Nest. */
const IN_LIBS = [
  {
    regex: '^(\\./|(\\.\\./)+)?apps(/|$)',
    message: 'Libs never import from apps/ (apps -> libs, never the reverse).',
  },
  {
    regex: '^@app/runtime$',
    message: '@app/runtime is the Nest wiring used by the apps; a lib must not depend on it.',
  },
];

/** Pure libs (workflows, calendar, common): no framework, no database, no queue, no infrastructure lib. */
const PURE = [
  {
    regex: '^@nestjs/',
    message:
      'Pure lib: no NestJS here (definitions, calendar and common run without starting Nest).',
  },
  {
    regex: '^(typeorm|bullmq|ioredis|pg)(/|$)',
    message: 'Pure lib: no database or queue client here; that belongs to persistence/scheduling.',
  },
  {
    regex: '^@app/(persistence|engine|scheduling|runtime|notifications|auth)$',
    message: 'Pure lib: it may depend on @app/common (and workflows on @app/calendar) only.',
  },
];

/** libs/common is the leaf: it depends on no other lib. */
const LEAF = [
  { regex: '^@app/', message: 'libs/common is the leaf of the graph: it imports no other lib.' },
];

/** libs/calendar depends on @app/common only. */
const CALENDAR = [
  { regex: '^@app/(?!common$)', message: 'libs/calendar may import @app/common only.' },
];

/** @param {...Array<Record<string, unknown>>} groups */
const restrict = (...groups) => ({
  'no-restricted-imports': ['error', { patterns: groups.flat() }],
});

export default defineConfig(
  globalIgnores([
    'dist/',
    'node_modules/',
    'coverage/',
    'bench/results/',
    // root config files (jest*.js, this file, ...) are plain JS/ESM outside tsconfig.json
    '*.js',
    '*.cjs',
    '*.mjs',
    '**/jest*.js',
  ]),

  {
    files: TS,
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'warn' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // a `default:` that deliberately handles the rest counts as exhaustive; a switch without one must
      // list every member, so adding a state/event/effect kind shows every place to update
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      // files with decorators are skipped by the rule when emitDecoratorMetadata is on (Nest DI needs
      // the runtime import of constructor parameter types)
      '@typescript-eslint/consistent-type-imports': [
        'warn',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports' },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Nest handlers and ports are async by contract even when one implementation does not await
      'require-await': 'off',
      '@typescript-eslint/require-await': 'off',
      eqeqeq: 'error',
      curly: ['error', 'multi-line'],
      ...restrict(EVERYWHERE),
    },
  },

  /* ---------- architecture overrides (the most specific block comes last) ---------- */
  {
    files: ['libs/**/*.ts'],
    ignores: ['libs/runtime/**'],
    rules: restrict(EVERYWHERE, IN_LIBS),
  },
  {
    // libs/runtime is the one lib that wires Nest, TypeORM and BullMQ together; it still never imports apps/
    files: ['libs/runtime/**/*.ts'],
    rules: restrict(EVERYWHERE, IN_LIBS.slice(0, 1)),
  },
  {
    files: ['libs/workflows/**/*.ts', 'libs/calendar/**/*.ts', 'libs/common/**/*.ts'],
    rules: restrict(EVERYWHERE, IN_LIBS, PURE),
  },
  {
    files: ['libs/calendar/**/*.ts'],
    rules: restrict(EVERYWHERE, IN_LIBS, PURE, CALENDAR),
  },
  {
    files: ['libs/common/**/*.ts'],
    rules: restrict(EVERYWHERE, IN_LIBS, PURE, LEAF),
  },

  /* ---------- tests: mocks, `expect(x.method)` and JSON bodies make these rules pure noise ---------- */
  {
    files: TESTS,
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },

  prettier,
);
