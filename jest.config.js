/**
 * Jest runs TypeScript through SWC; `npm run typecheck` is the type gate. `npm test` runs
 * `jest --coverage`: V8 coverage of the source the in-process tests exercise, failing below 80 %
 * of lines or branches. Tests that spawn `dist/` (test/e2e) count for nothing here. The KurrentDB
 * and MongoDB adapters are left out: their suites need servers this build has not got (they
 * skip without EVENTSTORE_URL / MONGODB_URL).
 */
module.exports = {
  testEnvironment: 'node',
  // The whole tree, so that coverage also counts the source files no test loads (0 %).
  roots: ['<rootDir>'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/coverage/', '<rootDir>/data/'],
  transform: { '^.+\\.[tj]s$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // jose is ESM only: SWC turns it into CommonJS for Jest (Node itself requires it natively).
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  // Two workers, each recycled past 1 GB: run in band, the coverage of every file piles up in
  // one process and each suite gets slower than the last.
  maxWorkers: 2,
  workerIdleMemoryLimit: '1GB',
  testTimeout: 30000,
  coverageProvider: 'v8',
  collectCoverageFrom: [
    'domain/**/*.ts',
    'api/**/*.ts',
    'adapters/**/*.ts',
    'projections/**/*.ts',
    'sagas/**/*.ts',
    '!adapters/eventstore/eventstoredb.event-store.ts',
    '!adapters/eventstore/eventstoredb/**',
    '!adapters/readmodels/mongodb*.ts',
  ],
  coverageReporters: ['text-summary', 'json-summary'],
  coverageThreshold: { global: { lines: 80, branches: 80 } },
};
