import { randomBytes } from 'node:crypto'
import { ClusterKeyError } from './errors.js'

/**
 * The optional cluster key is a libp2p private-network pre-shared key: every connection is
 * additionally encrypted with it (XSalsa20) before Noise, so a node without the key cannot
 * even complete a handshake. The text form is the standard `swarm.key` file shared with IPFS
 * and other libp2p tools:
 *
 * ```
 * /key/swarm/psk/1.0.0/
 * /base16/
 * <64 hex digits>
 * ```
 */

const HEADER = '/key/swarm/psk/1.0.0/'
const ENCODING = '/base16/'
/** XSalsa20 key length. */
export const CLUSTER_KEY_BYTES = 32

/** A new random cluster key as `swarm.key` text; give it to every node of the cluster. */
export function generateClusterKey(): string {
  return `${HEADER}\n${ENCODING}\n${randomBytes(CLUSTER_KEY_BYTES).toString('hex')}\n`
}

/**
 * Normalizes a cluster key (swarm.key text, its bytes, or the bare 64 hex digits) to the
 * bytes `@libp2p/pnet` expects; throws `ClusterKeyError` naming what is wrong.
 */
export function parseClusterKey(key: string | Uint8Array): Uint8Array {
  const text = typeof key === 'string' ? key : new TextDecoder().decode(key)
  const lines = text
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
  let hex: string | undefined
  if (lines.length === 1) hex = lines[0]
  else if (lines.length === 3) {
    if (lines[0] !== HEADER) throw new ClusterKeyError(`first line must be ${HEADER}`)
    if (lines[1] !== ENCODING) throw new ClusterKeyError(`second line must be ${ENCODING}`)
    hex = lines[2]
  } else {
    throw new ClusterKeyError('expected the three lines of a swarm.key file')
  }
  if (hex === undefined || !/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new ClusterKeyError(`key must be ${CLUSTER_KEY_BYTES * 2} hex digits`)
  }
  return new TextEncoder().encode(`${HEADER}\n${ENCODING}\n${hex.toLowerCase()}`)
}
