/**
 * Tests are transpiled by ts-jest without type checking: `npm run lint` and `npm run build`
 * type-check the whole project once, which is faster than per test file.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // tsconfig.json sets isolatedModules, so ts-jest transpiles each file alone (no type check per file).
  transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFiles: ['<rootDir>/test/setup/polyfills.ts'],
  testTimeout: 60000,
};
