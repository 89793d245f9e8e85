import type { GossipsubEvents } from '@chainsafe/libp2p-gossipsub'
import type { PubSub } from '@libp2p/interface'

/**
 * What the topic validator does to a peer beyond its verdict, so that a flood costs its
 * sender and stops costing us. Gossipsub checks a peer's score once per RPC, before it
 * decodes or verifies anything; a graylisted peer's RPCs are dropped unread. But it caches a
 * score for a heartbeat (500 ms) and waves a peer whose score was ≥ 0 through for up to 128
 * RPCs or 1 s without looking, so a fresh attacker got ~1 s of full service (a signature
 * check per message, ~78 µs) before the penalty its first invalid messages earned took
 * effect. Both are cleared here when the peer misbehaves, so its next RPC meets its new score.
 *
 * Gossipsub 14 has no API for either; `score` is public, the whitelist is a private field,
 * reached structurally (a missing field makes this a no-op, never an error).
 */
export interface TopicPenalties {
  /** The validator rejected a message `peer` delivered (gossipsub counts it, weight −10²). */
  rejected(peer: string): void
  /**
   * `peer` published its own messages past its rate: a behaviour penalty (P7, −10 per unit²),
   * so three such messages graylist it. Only the author is penalised, never a relay: an honest
   * relay may pass on a burst of others' messages.
   */
  overRate(peer: string): void
}

interface GossipsubInternals {
  score?: {
    addPenalty?(id: string, penalty: number, label: string): void
    scoreCache?: Map<string, unknown>
  }
  acceptFromWhitelist?: Map<string, unknown>
}

export function createTopicPenalties(pubsub: PubSub<GossipsubEvents>): TopicPenalties {
  const internals = pubsub as unknown as GossipsubInternals
  const rescore = (peer: string): void => {
    internals.score?.scoreCache?.delete(peer)
    internals.acceptFromWhitelist?.delete(peer)
  }
  return {
    rejected: rescore,
    overRate(peer) {
      internals.score?.addPenalty?.(peer, 1, 'grapevine-rate')
      rescore(peer)
    },
  }
}
