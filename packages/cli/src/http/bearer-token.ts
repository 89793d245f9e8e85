import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Returns a check of an `Authorization` header against the configured token. Both sides are
 * hashed first so the comparison is constant-time whatever the lengths.
 */
export function createTokenCheck(token: string): (header: string | undefined) => boolean {
  const expected = createHash('sha256').update(token).digest()
  return (header) => {
    const match = /^Bearer\s+(.+)$/i.exec(header ?? '')
    if (match === null) return false
    const given = createHash('sha256').update(match[1]!.trim()).digest()
    return timingSafeEqual(given, expected)
  }
}
