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
  // On 2 cores Jest runs every file in one process (in band): one timer a library leaves armed
  // after its test file ended kept that process alive after a green run until CI's 90-minute
  // limit. Exit when the run is done; `npx jest <file> --detectOpenHandles` still finds leaks.
  forceExit: true,
};
