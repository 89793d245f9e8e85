import { describe, expect, it } from 'vitest'
import { estimateClaimBytes, validateClaim } from '../src/claim.js'
import { ValidationError } from '../src/errors.js'
import { createReplica } from '../src/replica.js'
import type { Replica, SyncPart } from '../src/replica-types.js'
import {
  claimSet,
  deltaOf,
  fullPart,
  incrementalPart,
  live,
  manualClock,
  tomb,
} from './replica-fixtures.js'

const TTL = 60_000

function setup(): { replica: Replica; clock: ReturnType<typeof manualClock> } {
  const clock = manualClock(1_000)
  return { replica: createReplica({ now: clock.now, tombstoneTtl: TTL }), clock }
}

/** Applies every part `from` has for `to` until nothing is left (budget-cut rounds). */
function syncOneWay(from: Replica, to: Replica, budget = 1 << 20): number {
  let rounds = 0
  for (;;) {
    const parts = from.partsFor(to.digest(), budget)
    if (parts.length === 0) return rounds
    for (const part of parts) to.applyPart(part)
    rounds++
    if (rounds > 1000) throw new Error('sync does not converge')
  }
}

describe('replica: applyDelta', () => {
  it('stores claims, advances covered and reports changed ids', () => {
    const { replica } = setup()
    const result = replica.applyDelta(deltaOf([live('a', 'x', 1), live('a', 'y', 2)]))
    expect(result).toMatchObject({ applied: 2, dropped: 0, gap: false, restarted: false })
    expect([...result.changedIds].sort()).toEqual(['x', 'y'])
    expect(replica.origin('a')).toEqual({ gen: 1, covered: 2, floor: 0 })
    expect(replica.size).toBe(2)
    expect(replica.claimsFor('x').map((c) => c.seq)).toEqual([1])
  })

  it('is idempotent: a duplicate changes nothing', () => {
    const { replica } = setup()
    const delta = deltaOf([live('a', 'x', 1), live('a', 'y', 2)])
    replica.applyDelta(delta)
    const again = replica.applyDelta(delta)
    expect(again).toMatchObject({ applied: 0, dropped: 2, gap: false })
    expect(again.changedIds.size).toBe(0)
    expect(claimSet(replica)).toEqual(['a/1:x@1', 'a/1:y@2'])
  })

  it('rule 2: keeps the newer claim of a key by seq, whatever the arrival order', () => {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 2)], 1, 2))
    const older = replica.applyDelta(deltaOf([live('a', 'x', 1)]))
    expect(older).toMatchObject({ applied: 0, dropped: 1 })
    replica.applyDelta(deltaOf([tomb('a', 'x', 3)]))
    expect(claimSet(replica)).toEqual(['a/1:x@3~'])
    expect(replica.size).toBe(1)
  })

  it('indexes claims of several origins by id', () => {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1)]))
    replica.applyDelta(deltaOf([live('b', 'x', 1, { vv: { a: 1, b: 1 } })]))
    expect(
      replica
        .claimsFor('x')
        .map((c) => c.origin)
        .sort(),
    ).toEqual(['a', 'b'])
    replica.applyDelta(deltaOf([tomb('a', 'x', 2)]))
    expect(replica.claimsFor('x').map((c) => `${c.origin}@${c.seq}`)).toEqual(['a@2', 'b@1'])
    expect(replica.claimsFor('nope')).toEqual([])
  })

  it('rule 1: drops an older generation', () => {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1, { gen: 2 })]))
    const stale = replica.applyDelta(deltaOf([live('a', 'y', 5, { gen: 1 })], 1, 5))
    expect(stale).toMatchObject({ applied: 0, dropped: 1, gap: false, restarted: false })
    expect(replica.origin('a')).toEqual({ gen: 2, covered: 1, floor: 0 })
  })

  it('rule 1: a newer generation drops every claim of the older one', () => {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1), live('a', 'y', 2), tomb('a', 'z', 3)]))
    const result = replica.applyDelta(deltaOf([live('a', 'x', 1, { gen: 2 })]))
    expect(result.restarted).toBe(true)
    expect([...result.changedIds].sort()).toEqual(['x', 'y', 'z'])
    expect(claimSet(replica)).toEqual(['a/2:x@1'])
    expect(replica.origin('a')).toEqual({ gen: 2, covered: 1, floor: 0 })
    expect(replica.size).toBe(1)
  })

  it('rule 3: a delta after a hole is stored but covered waits for the hole', () => {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1)]))
    const ahead = replica.applyDelta(deltaOf([live('a', 'y', 3), live('a', 'z', 4)]))
    expect(ahead).toMatchObject({ applied: 2, gap: true })
    expect(replica.origin('a')?.covered).toBe(1)
    const fill = replica.applyDelta(deltaOf([live('a', 'w', 2)]))
    expect(fill.gap).toBe(false)
    // The range received ahead is joined once the hole fills: same state as in-order delivery.
    expect(replica.origin('a')?.covered).toBe(4)
  })

  it('a newer generation announced with a hole is a restart and a gap', () => {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1)]))
    const result = replica.applyDelta(deltaOf([live('a', 'y', 4, { gen: 2 })]))
    expect(result).toMatchObject({ restarted: true, gap: true, applied: 1 })
    expect(replica.origin('a')).toEqual({ gen: 2, covered: 0, floor: 0 })
  })

  it('claimsOf lists an origin in ascending seq even when deltas arrive out of order', () => {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'z', 5)]))
    replica.applyDelta(deltaOf([live('a', 'x', 1), live('a', 'y', 2)]))
    replica.applyDelta(deltaOf([live('a', 'x', 3)]))
    expect(replica.claimsOf('a').map((c) => `${c.id}@${c.seq}`)).toEqual(['y@2', 'x@3', 'z@5'])
    expect(replica.claimsOf('unknown')).toEqual([])
  })
})

describe('replica: input checks', () => {
  it('rejects a malformed claim at validateClaim, before the replica sees it', () => {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1)]))
    const before = claimSet(replica)
    const bad = { ...live('a', 'y', 2), vv: { b: 1 } }
    expect(() => replica.applyDelta(deltaOf([validateClaim(bad)]))).toThrow(ValidationError)
    const wrongNode = { ...live('a', 'y', 2), instance: { ...live('b', 'y', 2).instance } }
    expect(() => validateClaim(wrongNode)).toThrow(/claim.instance.node/)
    expect(claimSet(replica)).toEqual(before)
    expect(replica.origin('a')).toEqual({ gen: 1, covered: 1, floor: 0 })
  })

  it.each([
    ['claim of another origin', deltaOf([live('a', 'y', 2), live('b', 'z', 3)]), 'delta.claims'],
    [
      'claim of another gen',
      deltaOf([live('a', 'y', 2), live('a', 'z', 3, { gen: 2 })]),
      'delta.claims',
    ],
    [
      'seq outside the range',
      deltaOf([live('a', 'y', 2), live('a', 'z', 3)], 2, 2),
      'delta.claims',
    ],
    ['seqs not ascending', deltaOf([live('a', 'y', 3), live('a', 'z', 2)], 2, 3), 'delta.claims'],
    ['duplicate seq', deltaOf([live('a', 'y', 2), live('a', 'z', 2)], 2, 2), 'delta.claims'],
    ['empty range', deltaOf([live('a', 'y', 2)], 3, 2), 'delta.fromSeq'],
    ['zero gen', { origin: 'a', gen: 0, fromSeq: 1, toSeq: 1, claims: [] }, 'delta.gen'],
  ])('rejects a delta with a %s and stores nothing of it', (_name, delta, field) => {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1)]))
    const error = (() => {
      try {
        replica.applyDelta(delta)
      } catch (err) {
        return err
      }
    })()
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).field).toBe(field)
    expect(claimSet(replica)).toEqual(['a/1:x@1'])
    expect(replica.origin('a')).toEqual({ gen: 1, covered: 1, floor: 0 })
  })

  it.each([
    ['covered below after', incrementalPart('a', 3, 2, []), 'part.covered'],
    ['negative floor', { ...fullPart('a', 4, [live('a', 'y', 4)]), floor: -1 }, 'part.floor'],
    ['claim at or below after', incrementalPart('a', 2, 4, [live('a', 'y', 2)]), 'part.claims'],
    ['claim above covered', fullPart('a', 2, [live('a', 'y', 3)]), 'part.claims'],
  ])('rejects a part with a %s', (_name, part, field) => {
    const { replica } = setup()
    expect(() => replica.applyPart(part)).toThrow(
      expect.objectContaining({ code: ValidationError.code, field }),
    )
    expect(replica.size).toBe(0)
    expect(replica.digest()).toEqual({})
  })
})

describe('replica: no resurrection', () => {
  it('drops a stale live claim once its tombstone was collected (floor)', () => {
    const { replica, clock } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1), tomb('a', 'x', 2), live('a', 'y', 3)]))
    clock.advance(TTL)
    expect(replica.collectGarbage()).toBe(1)
    expect(replica.origin('a')).toEqual({ gen: 1, covered: 3, floor: 2 })
    const replay = replica.applyDelta(deltaOf([live('a', 'x', 1)]))
    expect(replay).toMatchObject({ applied: 0, dropped: 1 })
    expect(replica.claimsFor('x')).toEqual([])
  })

  it('drops a claim a full part left out, in either order', () => {
    const history = [live('a', 'x', 1), live('a', 'y', 2)]
    const snapshot = fullPart('a', 3, [live('a', 'y', 2)]) // x@1 was superseded by a collected x@3~
    const first = setup().replica
    first.applyDelta(deltaOf(history))
    first.applyPart(snapshot)
    const second = setup().replica
    second.applyPart(snapshot)
    second.applyDelta(deltaOf(history))
    expect(claimSet(first)).toEqual(['a/1:y@2'])
    expect(claimSet(second)).toEqual(['a/1:y@2'])
    expect(second.origin('a')).toEqual({ gen: 1, covered: 3, floor: 3 })
  })
})

describe('replica: applyPart', () => {
  it('an incremental part extends coverage; one beyond a hole is a gap', () => {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1)]))
    const ahead = replica.applyPart(incrementalPart('a', 3, 5, [live('a', 'z', 5)]))
    expect(ahead).toMatchObject({ gap: true, applied: 1 })
    expect(replica.origin('a')?.covered).toBe(1)
    const fill = replica.applyPart(incrementalPart('a', 1, 3, [live('a', 'y', 2)]))
    expect(fill.gap).toBe(false)
    expect(replica.origin('a')?.covered).toBe(5)
  })

  it('a full part drops covered claims it does not carry and keeps those beyond it', () => {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1), live('a', 'y', 2), live('a', 'z', 3)]))
    replica.applyDelta(deltaOf([live('a', 'w', 6)]))
    const result = replica.applyPart(fullPart('a', 4, [live('a', 'y', 2), live('a', 'v', 4)]))
    expect([...result.changedIds].sort()).toEqual(['v', 'x', 'z'])
    expect(claimSet(replica)).toEqual(['a/1:v@4', 'a/1:w@6', 'a/1:y@2'])
    // The part's highest hole (seq 3) is the floor: seqs at or below it may hide collected tombstones.
    expect(replica.origin('a')).toEqual({ gen: 1, covered: 4, floor: 3 })
  })

  it('an empty full part of a newer generation announces a restart', () => {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1), live('a', 'y', 2)]))
    const result = replica.applyPart(fullPart('a', 0, [], 2))
    expect(result).toMatchObject({ restarted: true, applied: 0, gap: false })
    expect([...result.changedIds].sort()).toEqual(['x', 'y'])
    expect(replica.size).toBe(0)
    expect(replica.digest()).toEqual({ a: { gen: 2, covered: 0, floor: 0 } })
  })

  it('drops a part of an older generation', () => {
    const { replica } = setup()
    replica.applyPart(fullPart('a', 0, [], 3))
    const result = replica.applyPart(fullPart('a', 1, [live('a', 'x', 1, { gen: 2 })], 2))
    expect(result).toMatchObject({ applied: 0, dropped: 1, restarted: false })
    expect(replica.size).toBe(0)
  })
})

describe('replica: partsFor and behind', () => {
  function populated(): Replica {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1), live('a', 'y', 2), live('a', 'z', 3)]))
    replica.applyDelta(deltaOf([live('b', 'p', 1)]))
    return replica
  }

  it('sends full parts for unknown origins and increments for known ones', () => {
    const replica = populated()
    const parts = replica.partsFor({ a: { gen: 1, covered: 1, floor: 0 } }, 1 << 20)
    expect(parts.map((p) => [p.origin, p.full, p.after, p.covered, p.claims.length])).toEqual([
      ['a', false, 1, 3, 2],
      ['b', true, 0, 1, 1],
    ])
  })

  it('skips origins where the peer is equal or ahead, and sends a full part to an older gen', () => {
    const replica = populated()
    const parts = replica.partsFor(
      { a: { gen: 1, covered: 3, floor: 0 }, b: { gen: 0, covered: 9, floor: 0 } },
      1 << 20,
    )
    expect(parts.map((p) => [p.origin, p.full])).toEqual([['b', true]])
    expect(
      replica.partsFor(
        { a: { gen: 2, covered: 0, floor: 0 }, b: { gen: 1, covered: 1, floor: 0 } },
        100,
      ),
    ).toEqual([])
  })

  it('does not send claims held beyond a hole', () => {
    const replica = populated()
    replica.applyDelta(deltaOf([live('a', 'q', 9)]))
    const [part] = replica.partsFor({}, 1 << 20)
    expect(part?.covered).toBe(3)
    expect(part?.claims.map((c) => c.seq)).toEqual([1, 2, 3])
  })

  it('announces a restart known only beyond a hole with an empty full part', () => {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 4, { gen: 2 })]))
    const parts = replica.partsFor({ a: { gen: 1, covered: 7, floor: 0 } }, 1 << 20)
    expect(parts).toEqual([
      { origin: 'a', gen: 2, full: true, after: 0, covered: 0, claims: [], floor: 0 },
    ])
  })

  it('cuts at the budget on a claim boundary, declaring the last seq sent: never a gap', () => {
    const { replica } = setup()
    const claims = Array.from({ length: 50 }, (_, i) => live('a', `id-${i}`, i + 1))
    replica.applyDelta(deltaOf(claims))
    replica.applyDelta(deltaOf([live('b', 'p', 1)]))
    const size = estimateClaimBytes(claims[0]!)
    const budget = size * 10
    const parts = replica.partsFor({}, budget)
    expect(parts).toHaveLength(1) // budget spent on `a`: no part for `b` this round
    const [part] = parts as [SyncPart]
    expect(part.claims.length).toBeGreaterThan(5)
    expect(part.claims.length).toBeLessThan(10)
    expect(part.covered).toBe(part.claims[part.claims.length - 1]!.seq)
    expect(part.claims.map((c) => c.seq)).toEqual(part.claims.map((_, i) => i + 1))

    const peer = setup().replica
    const rounds = syncOneWay(replica, peer, budget)
    expect(rounds).toBeGreaterThan(5)
    expect(claimSet(peer)).toEqual(claimSet(replica))
    expect(peer.digest()).toEqual({
      a: { gen: 1, covered: 50, floor: 0 },
      b: { gen: 1, covered: 1, floor: 0 },
    })
  })

  it('sends at least one claim even when it alone is over budget', () => {
    const replica = populated()
    const parts = replica.partsFor({}, 1)
    expect(parts).toHaveLength(1)
    expect(parts[0]).toMatchObject({ origin: 'a', full: true, covered: 1 })
    expect(parts[0]?.claims).toHaveLength(1)
  })

  it('behind lists origins where the peer is ahead or that we lack', () => {
    const replica = populated()
    expect(
      replica.behind({
        a: { gen: 1, covered: 4, floor: 0 },
        b: { gen: 1, covered: 1, floor: 0 },
        c: { gen: 1, covered: 1, floor: 0 },
      }),
    ).toEqual(['a', 'c'])
    expect(replica.behind({ a: { gen: 2, covered: 0, floor: 0 } })).toEqual(['a'])
    expect(replica.behind({ a: { gen: 1, covered: 2, floor: 0 } })).toEqual([])
  })
})

describe('replica: garbage collection', () => {
  it('collects covered tombstones older than the TTL and raises the floor', () => {
    const { replica, clock } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1), tomb('a', 'y', 2), live('a', 'z', 3)]))
    clock.advance(TTL - 1)
    replica.applyDelta(deltaOf([tomb('a', 'x', 4)]))
    expect(replica.collectGarbage()).toBe(0)
    clock.advance(1)
    expect(replica.collectGarbage()).toBe(1)
    expect(replica.origin('a')).toEqual({ gen: 1, covered: 4, floor: 2 })
    clock.advance(TTL)
    expect(replica.collectGarbage()).toBe(1)
    expect(replica.origin('a')).toEqual({ gen: 1, covered: 4, floor: 4 })
    expect(claimSet(replica)).toEqual(['a/1:z@3'])
  })

  it('keeps a tombstone held beyond a hole until it is covered', () => {
    const { replica, clock } = setup()
    replica.applyDelta(deltaOf([tomb('a', 'x', 3)]))
    clock.advance(2 * TTL)
    expect(replica.collectGarbage()).toBe(0)
    replica.applyDelta(deltaOf([live('a', 'y', 1), live('a', 'z', 2)]))
    expect(replica.collectGarbage()).toBe(1)
    expect(replica.origin('a')).toEqual({ gen: 1, covered: 3, floor: 3 })
  })

  it('a tombstone replaced by a live claim is not collected', () => {
    const { replica, clock } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1), tomb('a', 'x', 2), live('a', 'x', 3)]))
    clock.advance(2 * TTL)
    expect(replica.collectGarbage()).toBe(0)
    expect(claimSet(replica)).toEqual(['a/1:x@3'])
  })

  it('a peer below the floor gets a full snapshot that removes what it should not keep', () => {
    const { replica, clock } = setup()
    const peer = setup().replica
    replica.applyDelta(deltaOf([live('a', 'x', 1), live('a', 'y', 2)]))
    syncOneWay(replica, peer)
    replica.applyDelta(deltaOf([tomb('a', 'x', 3), live('a', 'z', 4)]))
    clock.advance(TTL)
    replica.collectGarbage()
    expect(replica.origin('a')).toEqual({ gen: 1, covered: 4, floor: 3 })

    const [part] = replica.partsFor(peer.digest(), 1 << 20)
    expect(part).toMatchObject({ full: true, after: 0, covered: 4 })
    peer.applyPart(part!)
    expect(claimSet(peer)).toEqual(['a/1:y@2', 'a/1:z@4'])
    // The peer cannot tell a collected tombstone from a superseded write: its floor covers both.
    expect(peer.origin('a')).toEqual({ gen: 1, covered: 4, floor: 3 })

    // A third replica that stayed at seq 2 learns of the deletion from the peer, not only
    // from the replica that collected the tombstone.
    const third = setup().replica
    third.applyDelta(deltaOf([live('a', 'x', 1), live('a', 'y', 2)]))
    syncOneWay(peer, third)
    expect(claimSet(third)).toEqual(['a/1:y@2', 'a/1:z@4'])
  })
})

describe('replica: snapshots cut at the budget', () => {
  /** A, K, B, then K deregistered, then C; the sender collected K's tombstone (floor 4). */
  function collected(): { sender: Replica; history: ReturnType<typeof live>[] } {
    const { replica, clock } = setup()
    const history = [live('o', 'a', 1), live('o', 'k', 2), live('o', 'b', 3)]
    replica.applyDelta(deltaOf(history))
    replica.applyDelta(deltaOf([tomb('o', 'k', 4), live('o', 'c', 5)]))
    clock.advance(TTL)
    replica.collectGarbage()
    return { sender: replica, history }
  }
  const oneClaim = estimateClaimBytes(live('o', 'a', 1)) + 40

  it('is continued at its level until covered reaches it, then the peer is in step', () => {
    const { sender } = collected()
    expect(sender.origin('o')).toEqual({ gen: 1, covered: 5, floor: 4 })
    const peer = setup().replica
    const [first] = sender.partsFor(peer.digest(), oneClaim)
    expect(first).toMatchObject({ full: true, after: 0, covered: 1, floor: 4 })
    peer.applyPart(first!)
    // Below the level: a peer that saw only this part must not serve what it cannot vouch for.
    expect(peer.origin('o')).toEqual({ gen: 1, covered: 1, floor: 4 })
    const [next] = sender.partsFor(peer.digest(), oneClaim)
    expect(next).toMatchObject({ full: true, after: 1, covered: 3, floor: 4 })
    peer.applyPart(next!)
    expect(syncOneWay(sender, peer, oneClaim)).toBe(1)
    expect(claimSet(peer)).toEqual(claimSet(sender))
    expect(peer.origin('o')).toEqual({ gen: 1, covered: 5, floor: 4 })
  })

  it('is continued only by peers that cover its level, so a stale claim cannot slip in', () => {
    const { sender, history } = collected()
    const behind = setup().replica // saw seqs 1..3 only: k@2 is live there
    behind.applyDelta(deltaOf(history))
    const peer = setup().replica
    peer.applyPart(sender.partsFor(peer.digest(), oneClaim)[0]!)
    expect(behind.partsFor(peer.digest(), 1 << 20)).toEqual([])
    syncOneWay(sender, peer, oneClaim)
    expect(claimSet(peer)).toEqual(['o/1:a@1', 'o/1:b@3', 'o/1:c@5'])
  })

  it('restarts at a higher level, and a stale claim below the floor is dropped', () => {
    const { sender, history } = collected()
    const peer = setup().replica
    peer.applyDelta(deltaOf(history)) // k@2 is live here; covered 3 is below the floor 4
    expect(sender.partsFor(peer.digest(), oneClaim)[0]).toMatchObject({ full: true, after: 0 })
    syncOneWay(sender, peer, oneClaim)
    expect(claimSet(peer)).toEqual(['o/1:a@1', 'o/1:b@3', 'o/1:c@5'])
    const replay = peer.applyDelta(deltaOf([live('o', 'k', 2)]))
    expect(replay.applied).toBe(0)
  })

  it('a replica that is itself below a level does not continue it', () => {
    const { sender } = collected()
    const peer = setup().replica
    peer.applyPart(sender.partsFor(peer.digest(), oneClaim)[0]!)
    const third = setup().replica
    third.applyPart(sender.partsFor(third.digest(), oneClaim)[0]!)
    // Both hold seq 1 at level 4: neither can bring the other up to it.
    expect(third.partsFor(peer.digest(), 1 << 20)).toEqual([])
    expect(third.behind(peer.digest())).toEqual([])
  })
})

describe('replica: forgetOrigin', () => {
  it('removes an origin and its claims, and returns their ids', () => {
    const { replica } = setup()
    replica.applyDelta(deltaOf([live('a', 'x', 1), tomb('a', 'y', 2)]))
    replica.applyDelta(deltaOf([live('b', 'x', 1, { vv: { a: 1, b: 1 } })]))
    expect([...replica.forgetOrigin('a')].sort()).toEqual(['x', 'y'])
    expect(replica.origin('a')).toBeUndefined()
    expect(replica.claimsFor('x').map((c) => c.origin)).toEqual(['b'])
    expect(replica.size).toBe(1)
    expect(replica.forgetOrigin('a').size).toBe(0)
  })
})
