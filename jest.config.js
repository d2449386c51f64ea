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
  // On 2 cores Jest runs every file in one process (in band). A stopped local execution left a
  // 24 h Task timer armed (fixed in local/stepfunctions/server.ts), which kept that process alive
  // after a green run until CI's 90-minute limit. A full `npx jest --forceExit=false` now exits by
  // itself (Jest prints "Force exiting" whenever this is set, leak or not). Kept as a guard: a result
  // is never lost to a leftover timer; `npx jest <file> --forceExit=false --detectOpenHandles` finds one.
  forceExit: true,
};
