import type { FastMsgIdFn } from '@chainsafe/libp2p-gossipsub/types'

/**
 * Gossipsub's fast message id: the key of its "seen" cache, checked before the signature.
 * Without one, every duplicate copy of a message (one per mesh peer) is verified again and
 * signature checks dominate CPU. Under `StrictSign` a message is identified by its author and
 * seqno, so the id keeps both; it is only stored for messages that then pass validation, so
 * a forged copy cannot poison the cache.
 */
export const fastMessageId: FastMsgIdFn = (message) => {
  const from = message.from
  const seqno = message.seqno
  // Unsigned or malformed: any constant works, validation rejects it before it is cached.
  if (from === undefined || seqno === undefined) return 'unsigned'
  return `${base64(from)}/${base64(seqno)}`
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}
