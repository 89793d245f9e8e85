import { defineConfig } from 'vitest/config'

// Two projects: `unit` is pure and fast (core, codecs, property tests); `cluster` starts real
// libp2p nodes and processes on 127.0.0.1, so it runs its files one at a time to keep the
// two-core CI machine from starving heartbeats and turning timing assertions flaky.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
})
