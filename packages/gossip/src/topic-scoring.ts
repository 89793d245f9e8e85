import type { PeerScoreParams, PeerScoreThresholds } from '@chainsafe/libp2p-gossipsub/score'

/**
 * Gossipsub peer scoring for the cluster topic: what makes invalid messages cost their
 * sender. Before, no topic parameters were set, so a peer that sent 19,820 rejected messages
 * was never graylisted, and each cost every receiver ~0.6 ms of CPU (issue 9, finding 6).
 *
 * - Invalid deliveries (messages our topic validator rejects: forged origin, undecodable,
 *   malformed) weigh −10 each, squared: three in a row take a peer below the graylist
 *   threshold (−80), after which gossipsub drops its RPCs unread. The counter halves every
 *   second (decay 0.5 per 1 s decay interval), so a peer that stops recovers in seconds.
 * - Mesh-delivery penalties stay off: a registry is quiet most of the time, and a quiet
 *   honest peer must not look like a lazy one.
 * - First deliveries earn a little (capped), so peers that relay useful messages rank above
 *   strangers when the mesh is pruned.
 */
export function clusterScoreParams(
  topic: string,
  ipColocationWeight: number,
): Partial<PeerScoreParams> {
  return {
    IPColocationFactorWeight: ipColocationWeight,
    topics: {
      [topic]: {
        topicWeight: 1,
        timeInMeshWeight: 0.01,
        timeInMeshQuantum: 1_000,
        timeInMeshCap: 300,
        firstMessageDeliveriesWeight: 0.1,
        firstMessageDeliveriesDecay: 0.9,
        firstMessageDeliveriesCap: 100,
        meshMessageDeliveriesWeight: 0,
        meshMessageDeliveriesDecay: 0.5,
        meshMessageDeliveriesCap: 1,
        meshMessageDeliveriesThreshold: 1,
        meshMessageDeliveriesWindow: 10,
        meshMessageDeliveriesActivation: 5_000,
        meshFailurePenaltyWeight: 0,
        meshFailurePenaltyDecay: 0.5,
        invalidMessageDeliveriesWeight: -10,
        invalidMessageDeliveriesDecay: 0.5,
      },
    },
  }
}

/** Gossipsub's default thresholds, written down: graylisting at −80 is what the weights aim at. */
export const CLUSTER_SCORE_THRESHOLDS: Partial<PeerScoreThresholds> = {
  gossipThreshold: -10,
  publishThreshold: -50,
  graylistThreshold: -80,
}
