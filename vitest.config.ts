import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Loopback only: a DNS lookup of any real name fails the test (see the file).
    setupFiles: ['test/setup/no-network.ts'],
    // The emulators and moto are real servers: give their scenarios room on a 2-core CI machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
