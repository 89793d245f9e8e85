import {
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  type KeyObject,
} from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { edwardsToMontgomeryPriv, edwardsToMontgomeryPub } from '@noble/curves/ed25519'

/**
 * A symmetric key per pair of nodes, with no handshake: the static Diffie-Hellman of both
 * identities. Every Grapevine id is an Ed25519 peer id that holds its public key, and an
 * Ed25519 key maps to an X25519 key (the birational map RFC 7748 §4.1 names; libsodium's
 * `crypto_sign_ed25519_pk_to_curve25519`), so node A computes X25519(a, B) and B computes
 * X25519(b, A): the same secret, known to the two of them only. HKDF binds it to the
 * cluster name and, when set, the cluster key, so a node without the key derives nothing
 * useful. The membership datagrams (`swim-datagrams.ts`) are sealed with these keys.
 *
 * The conversion and the DH cost ~0.3 ms once per peer; keys are cached.
 */
export interface PairKeys {
  /** The key this node shares with `peer`, or undefined if `peer` is not an Ed25519 peer id. */
  keyFor(peer: string): Uint8Array | undefined
  /** True if `peer`'s key is cached (deriving it costs a DH; callers rate-limit misses). */
  has(peer: string): boolean
}

export interface PairKeysInit {
  readonly privateKey: PrivateKey
  readonly self: string
  readonly cluster: string
  /** The cluster's pre-shared key (swarm.key bytes), mixed into every pair key. */
  readonly clusterKey?: Uint8Array
}

const CACHE_SIZE = 4_096
const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')

function x25519Public(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: base64url(raw) }, format: 'jwk' })
}

export function createPairKeys(init: PairKeysInit): PairKeys {
  if (init.privateKey.type !== 'Ed25519') {
    throw new TypeError(`pair keys need an Ed25519 identity, not ${init.privateKey.type}`)
  }
  const seed = init.privateKey.raw.subarray(0, 32)
  const own = edwardsToMontgomeryPriv(seed)
  const ownPublic = edwardsToMontgomeryPub(init.privateKey.publicKey.raw)
  const privateKey = createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: base64url(own), x: base64url(ownPublic) },
    format: 'jwk',
  })
  const salt = createHash('sha256')
    .update('grapevine/swim-datagram/2\0')
    .update(init.cluster)
    .update('\0')
    .update(init.clusterKey ?? new Uint8Array())
    .digest()
  const keys = new Map<string, Uint8Array | null>()

  function derive(peer: string): Uint8Array | null {
    try {
      const publicKey = peerIdFromString(peer).publicKey
      if (publicKey?.type !== 'Ed25519') return null
      const shared = diffieHellman({
        privateKey,
        publicKey: x25519Public(edwardsToMontgomeryPub(publicKey.raw)),
      })
      // Both ends name the pair the same way: lower id first.
      const info = init.self < peer ? `${init.self}\0${peer}` : `${peer}\0${init.self}`
      return new Uint8Array(hkdfSync('sha256', shared, salt, info, 32))
    } catch {
      return null // not a peer id, or a key that is not a curve point
    }
  }

  return {
    keyFor(peer) {
      let key = keys.get(peer)
      if (key === undefined) {
        key = derive(peer)
        if (keys.size >= CACHE_SIZE) keys.delete(keys.keys().next().value as string)
        keys.set(peer, key)
      }
      return key ?? undefined
    },
    has: (peer) => keys.has(peer),
  }
}
