import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnAgent, stopAgent } from './agent-process.js'
import type { ClusterLauncher, DemoNode } from './cluster-launcher.js'

export interface LoopbackLauncherInit {
  /** How to run the CLI: `[process.execPath, path/to/bin/grapevine.js]`. */
  command: readonly string[]
  /** Cluster name; unique per run so that two demos on one machine stay apart. */
  cluster: string
  /** Extra `grapevine agent` flags for every node (timings, log level). */
  extraArgs?: readonly string[]
  startTimeoutMs?: number
}

/**
 * `grapevine agent` flags for a node on 127.0.0.1 without mDNS, listening (libp2p, HTTP, DNS) on
 * ports the OS picks, bootstrapping to `bootstrap`, then `extraArgs`.
 */
export function loopbackAgentArgs(init: {
  cluster: string
  dataDir: string
  bootstrap?: readonly string[]
  extraArgs?: readonly string[]
}): string[] {
  return [
    '--cluster',
    init.cluster,
    '--listen',
    '/ip4/127.0.0.1/tcp/0',
    '--mdns=false',
    '--http-addr',
    '127.0.0.1:0',
    '--dns-addr',
    '127.0.0.1:0',
    '--data-dir',
    init.dataDir,
    ...(init.bootstrap ?? []).flatMap((address) => ['--bootstrap', address]),
    ...(init.extraArgs ?? []),
  ]
}

/**
 * The demo cluster on 127.0.0.1 without mDNS: node-1 starts first on a free port and every
 * other node bootstraps to its address. Works anywhere, needs no privileges, sends nothing
 * off the machine. Each node gets its own data dir under one temp dir, removed at cleanup.
 */
export function createLoopbackLauncher(init: LoopbackLauncherInit): ClusterLauncher {
  const nodes: DemoNode[] = []
  let root: string | undefined
  let cleanup: Promise<void> | undefined

  const start = async (name: string, bootstrap: string[], signal: AbortSignal) => {
    const node = await spawnAgent({
      name,
      command: init.command,
      args: loopbackAgentArgs({
        cluster: init.cluster,
        dataDir: join(root!, name),
        bootstrap,
        extraArgs: init.extraArgs,
      }),
      startTimeoutMs: init.startTimeoutMs ?? 30_000,
      signal,
    })
    nodes.push(node)
    return node
  }

  return {
    label: 'loopback bootstrap',
    description: 'loopback: every node on 127.0.0.1 with --mdns=false, bootstrapping to node-1',
    available: async () => true,
    async start(count, signal) {
      root = await mkdtemp(join(tmpdir(), 'grapevine-demo-'))
      const first = await start('node-1', [], signal)
      const seed = first.addresses[0]
      if (seed === undefined) throw new Error('node-1 reported no listen address to bootstrap to')
      // allSettled, so that every node that did start is tracked for cleanup before we throw.
      const results = await Promise.allSettled(
        Array.from({ length: count - 1 }, (_, i) => start(`node-${i + 2}`, [seed], signal)),
      )
      const failed = results.find((r) => r.status === 'rejected')
      if (failed !== undefined) throw failed.reason
      return [first, ...results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))]
    },
    cleanup() {
      cleanup ??= (async () => {
        await Promise.all(nodes.map((node) => stopAgent(node, 3000)))
        if (root !== undefined) await rm(root, { recursive: true, force: true })
      })()
      return cleanup
    },
  }
}
