import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

/**
 * A node's identity is an Ed25519 key pair; its peer id (the node id of every claim it
 * writes) is derived from the public key. The agent persists the key so that a restarted
 * node keeps its id and its claims are replaced, not duplicated.
 */
export type { PrivateKey }

/** A new Ed25519 identity. */
export async function generatePrivateKey(): Promise<PrivateKey> {
  return generateKeyPair('Ed25519')
}

/** The key in libp2p's protobuf form, for the agent's data dir (treat it like an SSH key). */
export function marshalPrivateKey(key: PrivateKey): Uint8Array {
  return privateKeyToProtobuf(key)
}

/** Reads a key written by `marshalPrivateKey`; throws if the bytes are not a key. */
export function unmarshalPrivateKey(bytes: Uint8Array): PrivateKey {
  return privateKeyFromProtobuf(bytes)
}

/** The peer id (node id) that a key gives a node, as a string. */
export function peerIdOf(key: PrivateKey): string {
  return peerIdFromPrivateKey(key).toString()
}
