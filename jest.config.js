/** Jest runs TypeScript through SWC; `npm run typecheck` is the type gate. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.[tj]s$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // jose is ESM only: SWC turns it into CommonJS for Jest (Node itself requires it natively).
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  testTimeout: 30000,
};
