#!/usr/bin/env node
// The `forklift` executable: registers tsx so the TypeScript CLI runs without a build step.
require('tsx/cjs');
const { main } = require('./main.ts');
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
