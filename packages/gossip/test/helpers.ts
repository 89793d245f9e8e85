import {
  createRegistryNode,
  PROFILES,
  type ProfileTimings,
  type RegistryNode,
} from '@grapevine/core'
import {
  createGossipNode,
  createHost,
  type GossipNode,
  type GossipNodeInit,
  type Host,
  type HostInit,
} from '../src/index.js'

/**
 * Real nodes for tests: libp2p on 127.0.0.1, mDNS off, a fresh identity each. (Waits with a
 * deadline come from @grapevine/core/testing.)
 */

export interface TestNode {
  readonly host: Host
  readonly registry: RegistryNode
  readonly node: GossipNode
  readonly id: string
  /** A multiaddr other nodes can bootstrap from. */
  readonly address: string
}

export interface TestNodeOptions {
  cluster?: string
  bootstrap?: readonly TestNode[]
  timings?: Partial<ProfileTimings>
  host?: Partial<HostInit>
  gossip?: Partial<GossipNodeInit>
}

let generation = Date.now()

export async function startNode(options: TestNodeOptions = {}): Promise<TestNode> {
  const timings: ProfileTimings = { ...PROFILES.lan, ...options.timings }
  const bootstrap = (options.bootstrap ?? []).map((peer) => peer.address)
  const host = await createHost({
    cluster: options.cluster ?? 'test',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false,
    bootstrap,
    ...options.host,
  })
  const now = (): number => performance.now()
  const registry = createRegistryNode({
    nodeId: host.peerId,
    signing: host.signing,
    gen: ++generation,
    now,
    timings,
    tombstoneTtl: timings.tombstoneTtl,
  })
  const node = createGossipNode(
    {
      membership: timings,
      purgeAfter: timings.purgeAfter,
      syncInterval: timings.syncInterval,
      now,
      ...options.gossip,
    },
    { registry, host },
  )
  await node.start()
  const address = host.addresses()[0]
  if (address === undefined) throw new Error('host has no address')
  return { host, registry, node, id: host.peerId, address }
}

export async function stopAll(nodes: readonly (TestNode | undefined)[]): Promise<void> {
  await Promise.all(nodes.map((node) => node?.node.stop()))
  for (const node of nodes) node?.registry.close()
}

/** A registration with a distinct endpoint. */
export function service(
  name: string,
  i: number,
): { id: string; name: string; endpoints: string[] } {
  const host = `10.${Math.floor(i / 62_500) % 250}.${Math.floor(i / 250) % 250}.${i % 250}`
  return { id: `${name}-${i}`, name, endpoints: [`http://${host}:80`] }
}
