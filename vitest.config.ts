import { configDefaults, defineConfig } from 'vitest/config';

// `npm test`: every test but the live reference suite, which needs Python's scientific packages and runs with
// vitest.reference.config.ts (`npm run test:reference`). A setup file makes any attempt to start Python fail.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/reference/**'],
    setupFiles: ['test/helpers/no-python.ts'],
    // Training tests use both cores themselves; running files side by side only adds noise and memory.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
