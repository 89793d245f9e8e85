import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { ClusterLauncher } from './cluster-launcher.js'
import { createLoopbackLauncher } from './loopback-launcher.js'
import { createNamespaceLauncher } from './namespace-launcher.js'

/** How to run this CLI in a child process: node and the bin launcher. */
export const CLI_COMMAND: readonly string[] = [
  process.execPath,
  fileURLToPath(new URL('../../bin/grapevine.js', import.meta.url)),
]

/**
 * The demo's launchers in order of preference. mDNS auto-join in network namespaces goes
 * first because it shows zero-config discovery (it needs root on Linux); loopback bootstrap
 * always works.
 */
export function demoLaunchers(extraArgs: readonly string[] = []): ClusterLauncher[] {
  const cluster = `demo-${randomUUID().slice(0, 8)}`
  return [
    createNamespaceLauncher({ command: CLI_COMMAND, cluster, extraArgs }),
    createLoopbackLauncher({ command: CLI_COMMAND, cluster, extraArgs }),
  ]
}
