// StrykerJS over the JS/TS layers whose bugs no bit-exact kernel test sees: sampling, model config,
// the GGUF reader and the tokenizer. Run by `npm run mutation` (scripts/mutation.mjs), which
// installs Stryker into tools/mutation/node_modules on first use. Not part of `npm test`: slow.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);

const SETS = {
  sampling: ['src/sampling.ts'],
  config: ['src/model/config.ts'],
  reader: ['src/gguf/reader.ts'],
  tokenizer: ['src/tokenizer/**/*.ts', '!src/tokenizer/index.ts'],
};
const only = (process.env.MUTATE ?? Object.keys(SETS).join(',')).split(',');

export default {
  testRunner: 'vitest',
  plugins: [require.resolve('@stryker-mutator/vitest-runner')],
  vitest: { configFile: 'tools/mutation/vitest.config.ts' },
  mutate: only.flatMap((k) => SETS[k]),
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 60000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'test-artifacts/mutation.json' },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['test-artifacts', 'dist', '.stryker-tmp', 'tools/mutation/node_modules', 'tools/train'],
  cleanTempDir: true,
};
