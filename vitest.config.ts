import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores here: keep one worker per core and run heavy files without contention.
    pool: 'forks',
    maxWorkers: 2,
  },
});
