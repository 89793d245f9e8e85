import type { Logger } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { WIRE_LIMITS } from './messages.js'

/**
 * Keeps direct connections to the members this node hears of, up to `maxPeers`. Bootstrap
 * gives a star (everyone dials the same few nodes); a crash is only seen at once by peers
 * connected to the crashed node, everyone else waits for its lease to run out. Members
 * announce their addresses in their ALIVE records, and this keeper dials them.
 */

export interface PeerKeeperInit {
  /** Stop dialing members once this many peers are connected. @default 16 */
  maxPeers?: number
  /** How often to look for members to dial, in ms. */
  interval: number
  /** First retry delay for a member that could not be dialed, in ms; doubles to 30 s. @default 1_000 */
  retryDelay?: number
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
  log: Logger
}

export interface PeerKeeper {
  start(): void
  stop(): void
  /** Looks for members to dial now (a member was just heard of for the first time). */
  poke(): void
}

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
  const maxPeers = init.maxPeers ?? 16
  const retryDelay = init.retryDelay ?? 1_000
  const { self, log } = components
  const dialing = new Set<string>()
  const retries = new Map<string, { at: number; delay: number }>()
  // The higher peer id dials only on its second look, giving the lower one time to dial.
  const deferred = new Set<string>()
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
      retries.set(member.id, { at: performance.now() + delay, delay })
    } finally {
      dialing.delete(member.id)
    }
  }

  function tick(): void {
    const connected = new Set(components.connectedPeers())
    let room = maxPeers - connected.size - dialing.size
    const time = performance.now()
    const members = components.members()
    const known = new Set(members.map((member) => member.id))
    for (const id of retries.keys()) if (!known.has(id)) retries.delete(id)
    for (const id of deferred) if (!known.has(id) || connected.has(id)) deferred.delete(id)
    for (const member of members) {
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
