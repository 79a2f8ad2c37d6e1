import { defineConfig } from 'vitest/config';

// `npm run test:reference`: our forest, metrics and drift statistics against scikit-learn and scipy run live
// (python3-sklearn for BRAMBLE_REFERENCE_PYTHON, else /usr/bin/python3), and the recorded figures that `npm test`
// compares with checked against them. .ci/run runs it after `npm test`.
export default defineConfig({
  test: {
    include: ['test/reference/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});
