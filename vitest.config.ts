import { defineConfig } from 'vitest/config'

// Two projects: `unit` is per package and fast (core, codecs, property tests, small libp2p
// meshes in one process); `cluster` starts real clusters and processes on 127.0.0.1 (and in
// network namespaces), so it runs its files one at a time to keep the two-core CI machine from
// starving heartbeats and turning timing assertions flaky. `*.process.test.ts` in a package
// spawns processes and so belongs to `cluster`.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/*.process.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/**/*.test.ts', 'packages/*/test/**/*.process.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
})
