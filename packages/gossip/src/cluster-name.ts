import { ValidationError } from '@grapevine/core'
import { WIRE_LIMITS } from './messages.js'

/**
 * Cluster names appear in the pubsub topic (`grapevine/<cluster>/1`), in SYN and in logs,
 * so they keep to a DNS-label-like charset without slashes.
 */
const CLUSTER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/** Returns the name, or throws `ValidationError` (field `cluster`). */
export function validateClusterName(cluster: unknown): string {
  if (typeof cluster !== 'string' || cluster.length === 0) {
    throw new ValidationError('cluster', 'must be a non-empty string')
  }
  if (cluster.length > WIRE_LIMITS.clusterLength) {
    throw new ValidationError('cluster', `must be at most ${WIRE_LIMITS.clusterLength} characters`)
  }
  if (!CLUSTER_PATTERN.test(cluster)) {
    throw new ValidationError('cluster', `must match ${CLUSTER_PATTERN} (letters, digits, . _ -)`)
  }
  return cluster
}
