import type { MemberState } from './agent-api.js'
import { fnv1a } from './fnv.js'

/**
 * Member-table tags: every direct PING and PING_ACK carries a 32-bit summary of its sender's
 * member table, so two members that probe each other learn whether a table exchange
 * (push-pull) between them could change anything. Push-pull then goes to a member whose
 * table differs, and a converged cluster opens no stream for it; memberlist pays a full
 * exchange every period whatever it finds.
 *
 * The tag is the sum, modulo 2^32, of one hash per member (self included) over what a table
 * exchange repairs: the member's generation, incarnation and state. A sum, unlike a hash of a
 * sorted list, changes in O(1) when one member does, so a 10,000-node table keeps its tag
 * current for free.
 */
export function memberTablePart(
  id: string,
  gen: number,
  incarnation: number,
  state: MemberState,
): number {
  // FNV-1a, then murmur3's finaliser: sums of raw FNV hashes of similar strings would cancel
  // out in their low bits far more often than 1 in 2^32.
  let hash = fnv1a(`${id}:${gen}:${incarnation}:${state}`)
  hash ^= hash >>> 16
  hash = Math.imul(hash, 0x85ebca6b)
  hash ^= hash >>> 13
  hash = Math.imul(hash, 0xc2b2ae35)
  hash ^= hash >>> 16
  return hash >>> 0
}

/** `a + b` modulo 2^32. */
export const addTag = (a: number, b: number): number => (a + b) >>> 0
/** `a − b` modulo 2^32. */
export const subtractTag = (a: number, b: number): number => (a - b) >>> 0
