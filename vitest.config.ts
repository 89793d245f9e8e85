import { defineConfig } from 'vitest/config'

// Two projects: `unit` is per package and fast (core, codecs, property tests, small libp2p
// meshes in one process); `cluster` starts real clusters and processes on 127.0.0.1 (and in
// network namespaces), so it runs its files one at a time to keep the two-core CI machine from
// starving heartbeats and turning timing assertions flaky. `*.process.test.ts` in a package
// spawns processes and so belongs to `cluster`. The processes a cluster test starts run the
// compiled packages, built by the project's global setup. The two projects run one after the
// other (`groupOrder`): with unit files beside them, a cluster file's quiet and flooded
// latencies were measured under different loads, and their ratio failed now and then.
//
// Tests run every package from its TypeScript sources: the `@grapevine/source` condition of
// each package.json `exports` points at `src`, so no build step comes first. Setting
// conditions replaces Vite's defaults, so they are listed again (Vite's
// `defaultServerConditions`, which vitest/config does not re-export).
const conditions = ['@grapevine/source', 'module', 'node', 'development|production']

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/*.process.test.ts'],
          testTimeout: 60_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          // Processes run the compiled packages (dist), as an installed `grapevine` does.
          globalSetup: ['test/support/build-packages.ts'],
          include: ['test/**/*.test.ts', 'packages/*/test/**/*.process.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
})
