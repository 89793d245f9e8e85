import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto'
import type { Signer, Verifier } from '@grapevine/core'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'

/**
 * Core's `Signer` and `Verifier` on the node's libp2p identity (Ed25519), with node:crypto
 * directly: synchronous, and ~30 µs to sign, ~80 µs to verify on this machine. A peer id of
 * an Ed25519 key embeds the public key, so any origin's signature can be checked offline.
 */

// DER prefixes that wrap a raw 32-byte Ed25519 key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export function createKeySigner(key: PrivateKey): Signer {
  if (key.type !== 'Ed25519') throw new TypeError(`only Ed25519 identities sign, not ${key.type}`)
  // libp2p's raw Ed25519 private key is seed (32) ‖ public key (32).
  const seed = key.raw.subarray(0, 32)
  const keyObject = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  })
  return { sign: (bytes) => new Uint8Array(sign(null, bytes, keyObject)) }
}

/** Keeps the public keys of the last few thousand origins seen. */
const CACHE_LIMIT = 4_096

export function createPeerVerifier(): Verifier {
  const keys = new Map<string, KeyObject | null>()

  function keyOf(origin: string): KeyObject | null {
    const cached = keys.get(origin)
    if (cached !== undefined) return cached
    let keyObject: KeyObject | null = null
    try {
      const publicKey = peerIdFromString(origin).publicKey
      if (publicKey?.type === 'Ed25519') {
        keyObject = createPublicKey({
          key: Buffer.concat([SPKI_PREFIX, publicKey.raw]),
          format: 'der',
          type: 'spki',
        })
      }
    } catch {
      keyObject = null
    }
    if (keys.size >= CACHE_LIMIT) keys.delete(keys.keys().next().value as string)
    keys.set(origin, keyObject)
    return keyObject
  }

  return {
    verify(origin, bytes, sig) {
      const keyObject = keyOf(origin)
      if (keyObject === null || sig.byteLength !== 64) return false
      try {
        return verify(null, bytes, keyObject, sig)
      } catch {
        return false
      }
    },
  }
}
