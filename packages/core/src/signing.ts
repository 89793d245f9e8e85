/**
 * Signatures, as core sees them: bytes in, bytes out. Core stays pure; the gossip package
 * implements these with the node's libp2p private key and the peer id's public key.
 */

/** Signs bytes with this node's private key. */
export interface Signer {
  sign(bytes: Uint8Array): Uint8Array
}

/** Checks that `sig` over `bytes` was made by `origin`'s key. */
export interface Verifier {
  verify(origin: string, bytes: Uint8Array, sig: Uint8Array): boolean
}
