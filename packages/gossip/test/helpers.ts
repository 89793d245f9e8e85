import {
  type AliveRecord,
  createRegistryNode,
  memberRecordBytes,
  PROFILES,
  type ProfileTimings,
  type RegistryNode,
} from '@grapevine/core'
import type { PrivateKey } from '@libp2p/interface'
import { afterEach } from 'vitest'
import {
  createGossipNode,
  createHost,
  createRecordSigner,
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

/** What a test started: stopped after each test, hosts and bare peers first, then the nodes. */
export interface Started {
  readonly nodes: TestNode[]
  readonly hosts: { stop(): Promise<void> }[]
}

/** Registers the `afterEach` that stops what the suite's tests push into the returned lists. */
export function stopAfterEach(): Started {
  const running: Started = { nodes: [], hosts: [] }
  afterEach(async () => {
    await Promise.all(running.hosts.splice(0).map((host) => host.stop()))
    await stopAll(running.nodes.splice(0))
  })
  return running
}

/** A registration with a distinct endpoint. */
export function service(
  name: string,
  i: number,
): { id: string; name: string; endpoints: string[] } {
  const host = `10.${Math.floor(i / 62_500) % 250}.${Math.floor(i / 250) % 250}.${i % 250}`
  return { id: `${name}-${i}`, name, endpoints: [`http://${host}:80`] }
}

/** A host on 127.0.0.1 of cluster `test` with nothing on it (not started): for one protocol alone. */
export function bareHost(): Promise<Host> {
  return createHost({ cluster: 'test', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
}

/** A registry for `host` on the real clock, unsigned, generation 1. */
export function bareRegistry(host: Pick<Host, 'peerId'>): RegistryNode {
  return createRegistryNode({
    nodeId: host.peerId,
    gen: 1,
    now: () => performance.now(),
    timings: PROFILES.lan,
  })
}

/** A correctly signed ALIVE of a peer that is not a Grapevine node (a rogue or a flooder). */
export function signedAlive(
  peer: { readonly peerId: string; readonly privateKey: PrivateKey },
  name: string,
): AliveRecord {
  const unsigned = {
    kind: 'alive',
    id: peer.peerId,
    gen: 1,
    incarnation: 0,
    name,
    addrs: [],
  } as const
  const sig = createRecordSigner(peer.privateKey).sign(memberRecordBytes('test', unsigned))
  return { ...unsigned, sig }
}
