import type { Logger } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { WIRE_LIMITS } from './messages.js'

/**
 * Keeps this node's direct connections to members between `maxPeers` and `highWater`.
 * Bootstrap gives a star (everyone dials the same few nodes), and gossipsub's mesh and sync
 * run over whatever is connected: members announce their addresses in their ALIVE records,
 * and this keeper dials random ones of them until `maxPeers` are connected. Random, not in
 * table order, and bounded on both sides: dialing in table order, and never closing what
 * others dialed, left every node of a 30-process cluster connected to 17–39 peers (the first
 * members and the bootstrap node to nearly all), so each node's idle cost and the cost of a
 * join grew with the cluster. Above `highWater` it closes random connections older than
 * `trimGrace` (a joiner keeps its bootstrap connection until it found its own peers),
 * sparing gossipsub's mesh peers while others will do. Probes need no connection.
 */

export interface PeerKeeperInit {
  /** Dial members until this many peers are connected. @default 8 */
  maxPeers?: number
  /** Close connections above this many. @default 1.5 × maxPeers, rounded up */
  highWater?: number
  /** How often to look for members to dial and connections to close, in ms. */
  interval: number
  /** First retry delay for a member that could not be dialed, in ms; doubles to 30 s. @default 1_000 */
  retryDelay?: number
  /** A connection is never closed in its first this many ms. @default 3 × interval */
  trimGrace?: number
  /** @default Math.random */
  random?: () => number
  /** Monotonic milliseconds. @default performance.now */
  now?: () => number
}

export interface KnownMember {
  readonly id: string
  readonly addresses: readonly string[]
}

export interface PeerKeeperComponents {
  self: string
  connectedPeers(): string[]
  /** Members worth a connection (alive or suspect), with the addresses they announced. */
  members(): KnownMember[]
  dial(address: string): Promise<string>
  /** Closes every connection to `peer`. */
  hangUp(peer: string): Promise<void>
  /** Peers worth keeping over others when trimming (gossipsub's mesh). */
  preferred(): ReadonlySet<string>
  log: Logger
}

export interface PeerKeeper {
  start(): void
  stop(): void
  /** Looks for members to dial now (a member was just heard of, or a peer was lost). */
  poke(): void
}

/** Connections a node keeps unless told otherwise (`GossipNodeInit.maxPeers`). */
export const DEFAULT_MAX_PEERS = 8
const MAX_RETRY_DELAY = 30_000
const isLoopback = (address: string): boolean =>
  address.startsWith('/ip4/127.') || address.startsWith('/ip6/::1/')

/**
 * The addresses a node announces: at most `WIRE_LIMITS.aliveAddresses`, loopback only
 * when there is nothing else (a single-host cluster), each with the `/p2p/<id>` suffix.
 */
export function addressesToAnnounce(addresses: readonly string[]): string[] {
  const fit = addresses.filter((address) => address.length <= WIRE_LIMITS.addressLength)
  const routable = fit.filter((address) => !isLoopback(address))
  return (routable.length > 0 ? routable : fit).slice(0, WIRE_LIMITS.aliveAddresses)
}

export function createPeerKeeper(
  init: PeerKeeperInit,
  components: PeerKeeperComponents,
): PeerKeeper {
  const maxPeers = init.maxPeers ?? DEFAULT_MAX_PEERS
  const highWater = Math.max(maxPeers, init.highWater ?? Math.ceil(maxPeers * 1.5))
  const retryDelay = init.retryDelay ?? 1_000
  const trimGrace = init.trimGrace ?? init.interval * 3
  const random = init.random ?? Math.random
  const now = init.now ?? (() => performance.now())
  const { self, log } = components
  const dialing = new Set<string>()
  const retries = new Map<string, { at: number; delay: number }>()
  // The higher peer id dials only on its second look, giving the lower one time to dial.
  const deferred = new Set<string>()
  /** When each connected peer was first seen connected. */
  const since = new Map<string, number>()
  const closing = new Set<string>()
  let timer: ReturnType<typeof setInterval> | undefined
  let running = false

  async function dialMember(member: KnownMember): Promise<void> {
    dialing.add(member.id)
    try {
      for (const text of member.addresses) {
        if (!text.includes('/tcp/')) continue // a UDP address, for membership datagrams
        try {
          const address = multiaddr(text)
          const target =
            address.getPeerId() === null ? address.encapsulate(`/p2p/${member.id}`) : address
          if (target.getPeerId() !== member.id) continue // not where the member said it is
          await components.dial(target.toString())
          retries.delete(member.id)
          return
        } catch (err) {
          log('dial of member %s at %s failed: %s', member.id, text, (err as Error).message)
        }
      }
      const delay = Math.min((retries.get(member.id)?.delay ?? retryDelay / 2) * 2, MAX_RETRY_DELAY)
      retries.set(member.id, { at: now() + delay, delay })
    } finally {
      dialing.delete(member.id)
    }
  }

  /** Fisher–Yates, in place. */
  function shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      const item = items[i] as T
      items[i] = items[j] as T
      items[j] = item
    }
    return items
  }

  function trim(connected: ReadonlySet<string>, time: number): void {
    let staying = connected.size
    for (const id of closing) if (connected.has(id)) staying--
    const excess = staying - highWater
    if (excess <= 0) return
    const preferred = components.preferred()
    const old = shuffle(
      [...connected].filter(
        (id) => !closing.has(id) && time - (since.get(id) ?? time) >= trimGrace,
      ),
    )
    // Stable sort: the peers outside the mesh first, each group in random order.
    old.sort((a, b) => Number(preferred.has(a)) - Number(preferred.has(b)))
    for (const id of old.slice(0, excess)) {
      closing.add(id)
      log(
        '%d peers connected, over %d: closing the connection to %s',
        connected.size,
        highWater,
        id,
      )
      components
        .hangUp(id)
        .catch((err: Error) => log('closing the connection to %s failed: %s', id, err.message))
        .finally(() => closing.delete(id))
    }
  }

  function tick(): void {
    const connected = new Set(components.connectedPeers())
    const time = now()
    for (const id of since.keys()) if (!connected.has(id)) since.delete(id)
    for (const id of connected) if (!since.has(id)) since.set(id, time)
    trim(connected, time)
    let room = maxPeers - connected.size - dialing.size
    const members = components.members()
    const known = new Set(members.map((member) => member.id))
    for (const id of retries.keys()) if (!known.has(id)) retries.delete(id)
    for (const id of deferred) if (!known.has(id) || connected.has(id)) deferred.delete(id)
    if (room <= 0) return
    for (const member of shuffle([...members])) {
      if (room <= 0) break
      const id = member.id
      if (id === self || connected.has(id) || dialing.has(id)) continue
      if (member.addresses.length === 0 || (retries.get(id)?.at ?? 0) > time) continue
      if (self > id && !deferred.has(id)) {
        deferred.add(id)
        continue
      }
      deferred.delete(id)
      room--
      void dialMember(member)
    }
  }

  return {
    start() {
      running = true
      timer = setInterval(tick, init.interval)
    },
    stop() {
      running = false
      clearInterval(timer)
    },
    poke() {
      if (running) tick()
    },
  }
}
