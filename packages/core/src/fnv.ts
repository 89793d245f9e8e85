/** FNV-1a's 32-bit offset basis: the hash of no text. */
export const FNV_OFFSET = 0x811c9dc5

/**
 * 32-bit FNV-1a over `text`'s UTF-16 units, continuing from `hash`: the cheap, stable hash
 * the probe tags use (digest tags and member-table tags); not for anything adversarial.
 */
export function fnv1a(text: string, hash: number = FNV_OFFSET): number {
  let h = hash
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
