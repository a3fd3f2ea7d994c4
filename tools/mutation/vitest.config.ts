// The tests that can kill mutants of src/sampling.ts, src/model/config.ts, src/gguf/reader.ts and
// src/tokenizer/ (the full suite's other files test wasm kernels, which Stryker does not mutate).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: (process.env.MUTATION_TESTS ?? 'test/sampling.test.ts,test/model/hyperparameters.test.ts,test/gguf/reader.test.ts,test/gguf/hostile.test.ts,test/tokenizer/*.test.ts').split(','),
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
