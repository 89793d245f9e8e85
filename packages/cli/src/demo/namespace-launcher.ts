import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnAgent, stopAgent } from './agent-process.js'
import type { ClusterLauncher, DemoNode } from './cluster-launcher.js'
import {
  createNamespaceNetwork,
  type NamespaceNetwork,
  namespaceUnavailableReason,
} from './network-namespaces.js'
import { removeStaleResources } from './stale-resources.js'
import { DemoInterruptedError } from './wait-until.js'

export interface NamespaceLauncherInit {
  /** How to run the CLI: `[process.execPath, path/to/bin/grapevine.js]`. */
  command: readonly string[]
  /** Cluster name; unique per run so that two demos on one machine stay apart. */
  cluster: string
  /** Extra `grapevine agent` flags for every node (timings, log level). */
  extraArgs?: readonly string[]
  startTimeoutMs?: number
  /** Start of the namespace names, which a later run's sweep of stale ones matches. */
  namespacePrefix?: string
}

export interface NamespaceLauncher extends ClusterLauncher {
  /** The network, from when `start` has built it until cleanup has removed it. */
  readonly network: NamespaceNetwork | undefined
}

/** Namespaces are `gvdemo-<pid>-<serial>-{br,n1,n2,…}`; the root-side veth `gvdemo<pid36><serial>`. */
export const DEMO_NAMESPACE_PREFIX = 'gvdemo'
/** Data dirs live under `$TMPDIR/grapevine-demo-ns-<pid>-XXXXXX`. */
export const DEMO_DIR_PREFIX = 'grapevine-demo-ns-'

/**
 * The demo cluster with zero configuration, as on a LAN: every node in a network namespace of
 * its own on a private bridge, `--mdns=true` and no bootstrap, so peers find each other by
 * multicast DNS alone. Multicast stays on that bridge: the root namespace only gets a unicast
 * port on it (`<subnet>.254`), through which the demo reaches each agent's HTTP API, bound on
 * the agent's bridge address. Namespaces, processes and data dirs go at cleanup; a later run
 * removes those of a demo that was killed before it could.
 */
export function createNamespaceLauncher(init: NamespaceLauncherInit): NamespaceLauncher {
  const prefix = init.namespacePrefix ?? DEMO_NAMESPACE_PREFIX
  const nodes: DemoNode[] = []
  let network: NamespaceNetwork | undefined
  let root: string | undefined
  let cleanup: Promise<void> | undefined

  const start = async (index: number, signal: AbortSignal) => {
    const name = `node-${index + 1}`
    const node = await spawnAgent({
      name,
      command: ['ip', 'netns', 'exec', network!.hosts[index]!, ...init.command],
      args: [
        '--cluster',
        init.cluster,
        '--listen',
        '/ip4/0.0.0.0/tcp/0',
        '--mdns=true',
        '--http-addr',
        `${network!.addresses[index]}:0`,
        '--dns-addr',
        '127.0.0.1:0',
        '--data-dir',
        join(root!, name),
        ...(init.extraArgs ?? []),
      ],
      startTimeoutMs: init.startTimeoutMs ?? 30_000,
      signal,
    })
    nodes.push(node)
    return node
  }

  return {
    get network() {
      return network
    },
    label: 'mDNS in network namespaces',
    description:
      'mDNS in network namespaces: each node in its own namespace on a private bridge, --mdns=true, no bootstrap',
    available: async () => namespaceUnavailableReason(prefix) ?? true,
    async start(count, signal, say = () => {}) {
      const stale = await removeStaleResources(prefix, DEMO_DIR_PREFIX)
      if (stale.namespaces.length + stale.dirs.length > 0) {
        say(
          `Removed what an earlier, interrupted demo left: ${[...stale.namespaces, ...stale.dirs].join(', ')}`,
        )
      }
      network = await createNamespaceNetwork({ prefix, hosts: count, rootAccess: true })
      say(
        `Network: ${network.hosts.length} namespaces on bridge ${network.bridge} (${network.addresses[0]}…${network.addresses.at(-1)}), this process at ${network.root!.address}`,
      )
      root = await mkdtemp(join(tmpdir(), `${DEMO_DIR_PREFIX}${process.pid}-`))
      if (signal.aborted) throw new DemoInterruptedError()
      // allSettled, so that every node that did start is tracked for cleanup before we throw.
      const results = await Promise.allSettled(
        Array.from({ length: count }, (_, i) => start(i, signal)),
      )
      const failed = results.find((r) => r.status === 'rejected')
      if (failed !== undefined) throw failed.reason
      return [...nodes].sort((a, b) => a.name.localeCompare(b.name))
    },
    cleanup() {
      cleanup ??= (async () => {
        await Promise.all(nodes.map((node) => stopAgent(node, 3000)))
        await network?.destroy()
        network = undefined
        if (root !== undefined) await rm(root, { recursive: true, force: true })
      })()
      return cleanup
    },
  }
}
