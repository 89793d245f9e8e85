import { generateClusterKey as generateSwarmKey } from '@grapevine/gossip'

/**
 * A new random cluster key, as swarm.key text (the libp2p private-network format) that
 * `clusterKey` and `grapevine agent --cluster-key-file` accept. Only agents holding the same
 * key can connect. A function of its own, not a re-export, so that this package's types never
 * name the gossip layer's (and through it libp2p's) declarations.
 */
export function generateClusterKey(): string {
  return generateSwarmKey()
}
