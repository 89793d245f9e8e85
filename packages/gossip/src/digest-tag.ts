import { type Digest, FNV_OFFSET, fnv1a } from '@grapevine/core'

/**
 * Digest tags: every direct PING and PING_ACK carries a 32-bit hash of its sender's replica
 * digest (each origin's generation and covered seq), so two members that probe each other
 * learn whether they hold the same writes for the price of five bytes. A differing tag that
 * persists starts a sync session at once; periodic anti-entropy skips the peers whose tag
 * matched and becomes a slow backstop (for the odd hash collision) instead of the repair
 * path, so an idle cluster runs almost no sessions.
 *
 * `floor` is left out: it says which tombstones a replica has collected, which differs
 * between replicas that hold the same writes. So is an origin that has written nothing in
 * its generation (`covered` 0): a session would bring nothing of it, and a joiner's empty
 * entry, spread by the sessions it took part in, made every replica that gained it differ
 * from its neighbours (25 sessions of 0 claims per join at 20 members).
 */
export function digestTag(digest: Digest): number {
  // FNV-1a over the origins in a fixed order: the same digest always gives the same tag.
  let hash = FNV_OFFSET
  for (const origin of Object.keys(digest).sort()) {
    const state = digest[origin]
    if (state === undefined || state.covered === 0) continue
    hash = fnv1a(`${origin}:${state.gen}:${state.covered};`, hash)
  }
  return hash
}

const TAG_MAX_AGE_MS = 100

export interface DigestWatchInit {
  /**
   * A differing tag is acted on if ours has not changed for this long (nothing of ours is in
   * flight), or if the same peer differed already at least this long ago: a DELTA on its way
   * explains a difference for milliseconds, not for a second.
   */
  settleMs: number
  /**
   * At most one session started by a tag per this many ms, whoever differs: while a cluster
   * forms, or when it is starved of CPU, every peer differs at once, and a session per peer
   * would add load exactly when there is none to spare. @default settleMs
   */
  minGapMs?: number
  /**
   * Of those, at most one with a peer this node holds no connection to per this many ms.
   * Most probes come from such members, and a session with one dials it (Noise and identify
   * on both ends), which the peer keeper later closes again: while 40 processes formed a
   * cluster on 2 cores every tag differed, and those dials alone kept the machine saturated.
   * @default 0 (no separate limit)
   */
  strangerGapMs?: number
}

export interface DigestWatchComponents {
  /** The replica's digest, now. */
  digest(): Digest
  /** Starts a session with `peer` unless one ran very recently. */
  syncSoon(peer: string): void
  /** Whether this node holds a connection to `peer`. @default every peer is connected */
  isConnected?(peer: string): boolean
  /**
   * False until this node's first sessions are done. A joiner's digest differs from
   * everyone's until then, so each member it probed, or that probed it, would start a
   * session with it (most dialing it first); it is syncing with its first peers anyway, so
   * until then it shows no tag and acts on none. @default always ready
   */
  ready?(): boolean
  now(): number
}

export interface DigestWatch {
  /** This node's tag, for the frame being sent; none until `ready`. */
  tag(): number | undefined
  /** A peer's tag, from a frame it sent. */
  heard(peer: string, tag: number): void
  /** True if `peer`'s tag matched ours within the last `withinMs`. */
  agrees(peer: string, withinMs: number): boolean
  /** Forgets a peer (it disconnected). */
  forget(peer: string): void
}

export function createDigestWatch(
  init: DigestWatchInit,
  components: DigestWatchComponents,
): DigestWatch {
  let current: number | undefined
  let computedAt = Number.NEGATIVE_INFINITY
  let changedAt = Number.NEGATIVE_INFINITY
  let triggeredAt = Number.NEGATIVE_INFINITY
  let strangerTriggeredAt = Number.NEGATIVE_INFINITY
  const minGapMs = init.minGapMs ?? init.settleMs
  const strangerGapMs = init.strangerGapMs ?? 0
  /** When each peer was first heard with a tag that differed from ours, until it matches. */
  const differing = new Map<string, number>()
  /** When each peer's tag last matched ours. */
  const matched = new Map<string, number>()

  function ownTag(): number {
    const time = components.now()
    // Several frames go out per probe period, and hashing every origin costs tens of µs in
    // an idle process's unoptimised code: a tag up to 100 ms old is as good, since a
    // difference only counts after a second.
    if (current === undefined || time - computedAt > TAG_MAX_AGE_MS) {
      const next = digestTag(components.digest())
      if (next !== current) changedAt = time
      current = next
      computedAt = time
    }
    return current
  }

  return {
    tag: () => (components.ready?.() === false ? undefined : ownTag()),
    heard(peer, theirs) {
      if (components.ready?.() === false) return
      const ours = ownTag()
      const time = components.now()
      if (theirs === ours) {
        differing.delete(peer)
        matched.set(peer, time)
        return
      }
      matched.delete(peer)
      const since = differing.get(peer)
      if (since === undefined) differing.set(peer, time)
      const settled = time - changedAt >= init.settleMs
      const persistent = since !== undefined && time - since >= init.settleMs
      if ((settled || persistent) && time - triggeredAt >= minGapMs) {
        triggeredAt = time
        differing.delete(peer)
        if (components.isConnected?.(peer) === false) {
          if (time - strangerTriggeredAt < strangerGapMs) return
          strangerTriggeredAt = time
        }
        components.syncSoon(peer)
      }
    },
    agrees(peer, withinMs) {
      const at = matched.get(peer)
      return at !== undefined && components.now() - at < withinMs
    },
    forget(peer) {
      differing.delete(peer)
      matched.delete(peer)
    },
  }
}
