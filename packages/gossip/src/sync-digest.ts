import type { Digest, OriginState, SyncPart } from '@grapevine/core'

/**
 * Digest arithmetic of a sync session (sync-protocol.ts): comparing two digests, and the
 * digest a peer will hold once it has applied parts, from the parts' own declarations.
 */

export function sameDigest(a: Digest, b: Digest): boolean {
  const origins = Object.keys(a)
  if (origins.length !== Object.keys(b).length) return false
  return origins.every((origin) => {
    const x = a[origin]!
    const y = Object.hasOwn(b, origin) ? b[origin] : undefined
    return y !== undefined && x.gen === y.gen && x.covered === y.covered && x.floor === y.floor
  })
}

/**
 * `digest` as it will be once `parts` are applied, from the parts' own declarations: each part
 * ahead of it moves its origin. Used to answer before applying (see the session loops).
 */
export function withParts(digest: Digest, parts: readonly SyncPart[], self: string): Digest {
  // Null prototype: origin ids are data from the network.
  const next: Record<string, OriginState> = Object.assign(Object.create(null), digest)
  for (const part of parts) {
    if (part.origin === self) continue // only we write our origin (`apply` skips it)
    const held = Object.hasOwn(digest, part.origin) ? digest[part.origin] : undefined
    if (held !== undefined && !ahead(part, held)) continue
    // A snapshot (full) carries its level; a continuation leaves ours as it was.
    const floor = part.full ? (part.floor ?? 0) : held?.gen === part.gen ? held.floor : 0
    next[part.origin] = { gen: part.gen, covered: part.covered, floor }
  }
  return next
}

export function ahead(
  them: { gen: number; covered: number },
  us: OriginState | undefined,
): boolean {
  return us === undefined || them.gen > us.gen || (them.gen === us.gen && them.covered > us.covered)
}

/** True if `theirs` holds more than `ours` of some origin that `wanted` accepts. */
export function behind(ours: Digest, theirs: Digest, wanted: (origin: string) => boolean): boolean {
  for (const origin of Object.keys(theirs)) {
    if (!wanted(origin)) continue
    if (ahead(theirs[origin]!, Object.hasOwn(ours, origin) ? ours[origin] : undefined)) return true
  }
  return false
}
