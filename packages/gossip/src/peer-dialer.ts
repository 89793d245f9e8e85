import type { Logger, PeerId } from '@libp2p/interface'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'

/** Backoff and timeouts of outgoing dials. */
export interface RedialInit {
  /** First redial delay after a failed or lost bootstrap connection, in ms. @default 500 */
  initialDelay?: number
  /** Redial delays double up to this, in ms (±20% jitter). @default 10_000 */
  maxDelay?: number
  /** Time allowed for one dial, in ms. @default 5_000 */
  dialTimeout?: number
  /**
   * After a discovery, only the lower peer id dials at once (both dialing would open two
   * connections); the higher one dials after this grace, in ms, if still not connected.
   * @default 1_000
   */
  discoveryGrace?: number
}

export interface PeerDialerComponents {
  libp2p: Libp2p
  log: Logger
}

/**
 * Dials this node's bootstrap peers until each answered once, and again whenever this node
 * is left with no connection at all; dials peers that discovery finds. Once in the cluster, a
 * lost bootstrap connection is not redialed: the peer keeper picks members at random, and a
 * bootstrap peer that closed connections because it had too many (every joiner dials it) is
 * not dialed back into the same excess.
 */
export interface PeerDialer {
  start(bootstrap: readonly string[]): void
  stop(): void
  /** Dials one multiaddr; resolves with the remote peer id. */
  dial(address: string, signal?: AbortSignal): Promise<string>
}

interface Target {
  readonly address: Multiaddr
  peerId: string | undefined
  delay: number
  timer: ReturnType<typeof setTimeout> | undefined
  dialing: boolean
  /** It answered once: after that it is only redialed while this node is isolated. */
  answered: boolean
}

/** The peer-store tag of peers that membership added (see `onDiscovery`). */
export const MEMBER_TAG = 'grapevine-member'

/** libp2p's protocol code of `/p2p/<peer id>`. */
const P2P_CODE = 421

function jitter(ms: number): number {
  return ms * (0.8 + Math.random() * 0.4)
}

export function createPeerDialer(init: RedialInit, components: PeerDialerComponents): PeerDialer {
  const initialDelay = init.initialDelay ?? 500
  const maxDelay = init.maxDelay ?? 10_000
  const dialTimeout = init.dialTimeout ?? 5_000
  const discoveryGrace = init.discoveryGrace ?? 1_000
  const { libp2p, log } = components
  const self = libp2p.peerId.toString()
  const targets: Target[] = []
  const discoveryTimers = new Map<string, ReturnType<typeof setTimeout>>()
  let running = false

  const isConnected = (peerId: string): boolean =>
    libp2p.getConnections().some((connection) => connection.remotePeer.toString() === peerId)

  async function dial(address: string | Multiaddr | PeerId, signal?: AbortSignal): Promise<string> {
    const timeout = AbortSignal.timeout(dialTimeout)
    const target = typeof address === 'string' ? multiaddr(address) : address
    const connection = await libp2p.dial(target, {
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    })
    return connection.remotePeer.toString()
  }

  function isOwnAddress(address: Multiaddr): boolean {
    if (address.getPeerId() === self) return true
    const bare = address.decapsulateCode(P2P_CODE).toString()
    return libp2p.getMultiaddrs().some((own) => own.decapsulateCode(P2P_CODE).toString() === bare)
  }

  function schedule(target: Target): void {
    clearTimeout(target.timer)
    if (!running) return
    target.timer = setTimeout(() => void attempt(target), jitter(target.delay))
    target.delay = Math.min(target.delay * 2, maxDelay)
  }

  async function attempt(target: Target): Promise<void> {
    if (!running || target.dialing) return
    if (target.peerId !== undefined && isConnected(target.peerId)) return
    if (target.answered && libp2p.getConnections().length > 0) return
    target.dialing = true
    try {
      target.peerId = await dial(target.address)
      target.answered = true
      target.delay = initialDelay
      log('connected to bootstrap %s (%s)', target.address.toString(), target.peerId)
    } catch (err) {
      log('bootstrap dial %s failed: %s', target.address.toString(), (err as Error).message)
      schedule(target)
    } finally {
      target.dialing = false
    }
  }

  const onDisconnect = (): void => {
    if (libp2p.getConnections().length > 0) return
    for (const target of targets) {
      target.delay = initialDelay
      schedule(target)
    }
  }

  const onDiscovery = (event: CustomEvent<{ id: PeerId }>): void => {
    const peerId = event.detail.id
    const id = peerId.toString()
    if (id === self || isConnected(id) || discoveryTimers.has(id)) return
    // libp2p reports every peer new to its peer store as discovered, and membership adds each
    // member it hears of there (tagged): those are the peer keeper's to choose from, or every
    // node would dial every member. mDNS and the other discovery services add untagged peers.
    libp2p.peerStore.get(peerId).then(
      (peer) => {
        if (!peer.tags.has(MEMBER_TAG)) onDiscovered(peerId, id)
      },
      () => onDiscovered(peerId, id),
    )
  }

  function onDiscovered(peerId: PeerId, id: string): void {
    if (!running || isConnected(id) || discoveryTimers.has(id)) return
    const dialDiscovered = (): void => {
      discoveryTimers.delete(id)
      if (!running || isConnected(id)) return
      dial(peerId).catch((err: Error) => log('dial of discovered %s failed: %s', id, err.message))
    }
    if (self < id) dialDiscovered()
    else discoveryTimers.set(id, setTimeout(dialDiscovered, discoveryGrace))
  }

  return {
    start(bootstrap) {
      running = true
      libp2p.addEventListener('peer:disconnect', onDisconnect)
      libp2p.addEventListener('peer:discovery', onDiscovery)
      for (const text of bootstrap) {
        const address = multiaddr(text)
        if (isOwnAddress(address)) continue
        const target: Target = {
          address,
          peerId: address.getPeerId() ?? undefined,
          delay: initialDelay,
          timer: undefined,
          dialing: false,
          answered: false,
        }
        targets.push(target)
        void attempt(target)
      }
    },
    stop() {
      running = false
      libp2p.removeEventListener('peer:disconnect', onDisconnect)
      libp2p.removeEventListener('peer:discovery', onDiscovery)
      for (const target of targets) clearTimeout(target.timer)
      for (const timer of discoveryTimers.values()) clearTimeout(timer)
      discoveryTimers.clear()
      targets.length = 0
    },
    dial: (address, signal) => dial(address, signal),
  }
}
