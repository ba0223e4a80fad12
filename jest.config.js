/** One jest run for unit (*.spec.ts), integration (*.int-spec.ts) and HTTP end-to-end (*.e2e-spec.ts) tests.
 *  globalSetup creates a fresh PostgreSQL database for this run and applies the migrations once;
 *  globalTeardown drops it. Each run also gets its own Redis key prefix (see test/global-setup.ts). */
const paths = [
  'common',
  'workflows',
  'engine',
  'persistence',
  'scheduling',
  'notifications',
  'calendar',
  'auth',
  'runtime',
  'api-client',
];
module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '.*\\.(spec|int-spec|e2e-spec)\\.ts$',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: Object.fromEntries(
    paths.map((p) => [`^@app/${p}$`, `<rootDir>/libs/${p}/src`]),
  ),
  testEnvironment: 'node',
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
