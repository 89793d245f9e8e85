import type { Logger } from '@libp2p/interface'

/**
 * When to sync, and with whom; the sync protocol does the how. Sessions with one peer never
 * overlap: a request while one runs queues a single rerun (which sees every change made in
 * the meantime), so bursts of triggers cost at most two sessions.
 */

export interface SyncSchedulerInit {
  /** Mean period of anti-entropy with one random peer, in ms (jittered ±25%). */
  syncInterval: number
  /** Wait before a pull, in ms (see `GossipNodeInit.pullDelay`). */
  pullDelay: number
  /** A `syncSoon` within this many ms of the last session with the peer is skipped. @default 1_000 */
  recentWindow?: number
}

export interface SyncSchedulerComponents {
  /** Runs one session (rejects on failure, already counted). */
  sync(peer: string): Promise<void>
  /** Peers to pick from for anti-entropy. */
  candidates(): string[]
  isConnected(peer: string): boolean
  /** True while `peer` runs a session with us; periodic and opportunistic syncs skip it. */
  busy(peer: string): boolean
  /**
   * True if `peer` is known to hold what we hold (its digest tag matched ours within a sync
   * period): periodic anti-entropy skips it, except every `BACKSTOP_ROUNDS`th round.
   */
  inAgreement(peer: string): boolean
  log: Logger
}

export interface SyncScheduler {
  start(): void
  stop(): void
  /** A session with `peer` now, or right after the running one; never rejects. */
  syncNow(peer: string): Promise<void>
  /** A session unless one ran or is running with `peer` very recently. */
  syncSoon(peer: string): void
  /**
   * After `pullDelay`, if `stillBehind()`, syncs with `origin` when connected to it (it has
   * its own writes), else with `relay` (it delivered the message that revealed the gap).
   */
  pullLater(relay: string, origin: string, stillBehind: () => boolean): void
}

/** Every this many periodic rounds one ignores agreement: a backstop for tag collisions. */
const BACKSTOP_ROUNDS = 10

export function createSyncScheduler(
  init: SyncSchedulerInit,
  components: SyncSchedulerComponents,
): SyncScheduler {
  const recentWindow = init.recentWindow ?? 1_000
  const active = new Map<string, Promise<void>>()
  const queued = new Map<string, Promise<void>>()
  const lastSession = new Map<string, number>()
  const pulls = new Map<string, ReturnType<typeof setTimeout>>()
  let periodic: ReturnType<typeof setTimeout> | undefined
  let rounds = 0
  let running = false

  async function run(peer: string): Promise<void> {
    try {
      await components.sync(peer)
    } catch {
      // Counted and logged by the protocol; the next trigger retries.
    } finally {
      lastSession.set(peer, performance.now())
    }
  }

  function syncNow(peer: string): Promise<void> {
    if (!running) return Promise.resolve()
    const rerun = queued.get(peer)
    if (rerun !== undefined) return rerun
    const current = active.get(peer)
    if (current !== undefined) {
      const next = current.then(() => {
        queued.delete(peer)
        return syncNow(peer)
      })
      queued.set(peer, next)
      return next
    }
    const session = run(peer).finally(() => active.delete(peer))
    active.set(peer, session)
    return session
  }

  function scheduleAntiEntropy(): void {
    const delay = init.syncInterval * (0.75 + Math.random() * 0.5)
    periodic = setTimeout(() => {
      const time = performance.now()
      for (const [peer, at] of lastSession) if (time - at > recentWindow) lastSession.delete(peer)
      rounds++
      const backstop = rounds % BACKSTOP_ROUNDS === 0
      const peers = components
        .candidates()
        .filter(
          (candidate) =>
            !active.has(candidate) &&
            !components.busy(candidate) &&
            (backstop || !components.inAgreement(candidate)),
        )
      const peer = peers[Math.floor(Math.random() * peers.length)]
      if (peer !== undefined) void syncNow(peer)
      if (running) scheduleAntiEntropy()
    }, delay)
  }

  return {
    start() {
      running = true
      scheduleAntiEntropy()
    },
    stop() {
      running = false
      clearTimeout(periodic)
      for (const timer of pulls.values()) clearTimeout(timer)
      pulls.clear()
    },
    syncNow,
    syncSoon(peer) {
      const last = lastSession.get(peer)
      const recent = last !== undefined && performance.now() - last < recentWindow
      if (active.has(peer) || components.busy(peer) || recent) {
        return
      }
      void syncNow(peer)
    },
    pullLater(relay, origin, stillBehind) {
      if (!running || pulls.has(origin)) return
      const check = (): void => {
        pulls.delete(origin)
        if (!running || !stillBehind()) return
        const peer = components.isConnected(origin) ? origin : relay
        // A session the peer runs with us right now will most likely bring it: look again
        // afterwards rather than transfer the same claims twice in parallel.
        if (components.busy(peer)) {
          pulls.set(origin, setTimeout(check, init.pullDelay))
          return
        }
        components.log('pulling %s from %s', origin, peer)
        void syncNow(peer)
      }
      pulls.set(origin, setTimeout(check, init.pullDelay))
    },
  }
}
