import type { Digest } from '@grapevine/core'

/**
 * When is a starting node "caught up"? It tracks the first few peers it connects to; once
 * each of them has settled (a sync session with it completed or failed, or it left) and at
 * least one completed, the node is ready if it holds everything those peers advertised and
 * they subscribed to the topic (so what it publishes next reaches them at once).
 * A timeout bounds the wait (bootstrap peers down, a peer that never answers), and a node
 * that finds nobody within `idleGrace` is ready at once: it is the first of its cluster.
 */

export interface ReadyTrackerInit {
  /** How many of the first peers to catch up with. @default 3 */
  peers?: number
  /** Ready regardless after this many ms. */
  timeout: number
  /** Ready if no peer has connected after this many ms; undefined waits for `timeout`. */
  idleGrace: number | undefined
}

export interface ReadyTrackerComponents {
  /** True if this node lacks part of what `digest` holds. */
  behind(digest: Digest): boolean
  /**
   * True once `peer` subscribed to the cluster topic: only then do the node's first writes
   * (published right after `ready`) reach it directly instead of waiting for a pull.
   */
  subscribed(peer: string): boolean
}

export interface ReadyTracker {
  readonly ready: Promise<void>
  readonly isReady: boolean
  start(): void
  connected(peer: string): void
  disconnected(peer: string): void
  completed(peer: string, digest: Digest): void
  failed(peer: string): void
  /** A peer subscribed to the topic: re-check. */
  subscribed(peer: string): void
  /** Resolves now (the node stops). */
  stop(): void
}

interface TrackedPeer {
  settled: boolean
  digest: Digest | undefined
}

export function createReadyTracker(
  init: ReadyTrackerInit,
  components: ReadyTrackerComponents,
): ReadyTracker {
  const limit = init.peers ?? 3
  const tracked = new Map<string, TrackedPeer>()
  const timers: ReturnType<typeof setTimeout>[] = []
  let resolve!: () => void
  const ready = new Promise<void>((res) => {
    resolve = res
  })
  let done = false

  function finish(): void {
    if (done) return
    done = true
    for (const timer of timers) clearTimeout(timer)
    resolve()
  }

  function check(): void {
    if (done) return
    let synced = false
    for (const [id, peer] of tracked) {
      if (!peer.settled) return
      if (peer.digest === undefined) continue
      if (components.behind(peer.digest) || !components.subscribed(id)) return
      synced = true
    }
    if (synced) finish()
  }

  function track(peer: string): TrackedPeer | undefined {
    const known = tracked.get(peer)
    if (known !== undefined || tracked.size >= limit) return known
    const fresh: TrackedPeer = { settled: false, digest: undefined }
    tracked.set(peer, fresh)
    return fresh
  }

  function settle(peer: string, digest: Digest | undefined): void {
    const entry = done ? undefined : track(peer)
    if (entry === undefined) return
    entry.settled = true
    if (digest !== undefined) entry.digest = digest
    check()
  }

  return {
    ready,
    get isReady() {
      return done
    },
    start() {
      timers.push(setTimeout(finish, init.timeout))
      const grace = init.idleGrace
      if (grace !== undefined) {
        timers.push(setTimeout(() => tracked.size === 0 && finish(), grace))
      }
    },
    connected(peer) {
      if (!done) track(peer)
    },
    disconnected(peer) {
      const entry = tracked.get(peer)
      if (entry !== undefined && !entry.settled) settle(peer, undefined)
    },
    completed: (peer, digest) => settle(peer, digest),
    failed(peer) {
      const entry = tracked.get(peer)
      if (entry !== undefined && entry.digest === undefined) settle(peer, undefined)
    },
    subscribed(peer) {
      if (tracked.has(peer)) check()
    },
    stop: finish,
  }
}
