import { describe, expect, it } from 'vitest'
import { validateClaim } from '../src/claim.js'
import { createClaimWriter } from '../src/claim-writer.js'
import { ValidationError } from '../src/errors.js'
import { createReplica } from '../src/replica.js'
import type { Replica } from '../src/replica-types.js'
import { deltaOf, instanceOf, live, manualClock } from './replica-fixtures.js'

function replica(): Replica {
  return createReplica({ now: manualClock().now, tombstoneTtl: 60_000 })
}

describe('claim writer', () => {
  it('announces its generation to the replica on creation', () => {
    const store = replica()
    store.applyDelta(deltaOf([live('me', 'old', 1)]))
    createClaimWriter({ origin: 'me', gen: 2, replica: store })
    expect(store.origin('me')).toEqual({ gen: 2, covered: 0, floor: 0 })
    expect(store.claimsFor('old')).toEqual([])
    // A peer that knew the old generation is told of the restart by the next sync.
    expect(store.partsFor({ me: { gen: 1, covered: 1, floor: 0 } }, 1024)).toEqual([
      { origin: 'me', gen: 2, full: true, after: 0, covered: 0, claims: [], floor: 0 },
    ])
  })

  it('refuses a generation older than the replica knows', () => {
    const store = replica()
    store.applyDelta(deltaOf([live('me', 'x', 1, { gen: 5 })]))
    expect(() => createClaimWriter({ origin: 'me', gen: 4, replica: store })).toThrow(
      ValidationError,
    )
  })

  it('writes a batch at consecutive seqs as one delta, applied to the replica', () => {
    const store = replica()
    const writer = createClaimWriter({ origin: 'me', gen: 1, replica: store })
    const first = writer.write([{ id: 'x', instance: instanceOf('x', 'me') }])
    expect(first).toMatchObject({ origin: 'me', gen: 1, fromSeq: 1, toSeq: 1 })
    const second = writer.write([
      { id: 'y', instance: instanceOf('y', 'me') },
      { id: 'x', instance: null },
    ])
    expect(second).toMatchObject({ fromSeq: 2, toSeq: 3 })
    expect(second.claims.map((c) => [c.id, c.seq, c.instance === null])).toEqual([
      ['y', 2, false],
      ['x', 3, true],
    ])
    expect(store.origin('me')).toEqual({ gen: 1, covered: 3, floor: 0 })
    // Every claim is valid on the wire.
    for (const claim of [...first.claims, ...second.claims]) validateClaim(claim)
  })

  it('increments the merged vector of every claim held for the id', () => {
    const store = replica()
    store.applyDelta(deltaOf([live('a', 'x', 1, { vv: { a: 3 } })]))
    store.applyDelta(deltaOf([live('b', 'x', 1, { vv: { a: 2, b: 4 } })]))
    const writer = createClaimWriter({ origin: 'me', gen: 1, replica: store })
    const delta = writer.write([{ id: 'x', instance: instanceOf('x', 'me') }])
    expect(delta.claims[0]?.vv).toEqual({ a: 3, b: 4, me: 1 })
    const again = writer.write([{ id: 'x', instance: null }])
    expect(again.claims[0]?.vv).toEqual({ a: 3, b: 4, me: 2 })
  })

  it('chains vectors of the same id within one batch', () => {
    const store = replica()
    const writer = createClaimWriter({ origin: 'me', gen: 1, replica: store })
    const delta = writer.write([
      { id: 'x', instance: instanceOf('x', 'me') },
      { id: 'x', instance: null },
    ])
    expect(delta.claims.map((c) => c.vv)).toEqual([{ me: 1 }, { me: 2 }])
    expect(store.claimsFor('x').map((c) => c.seq)).toEqual([2])
  })

  it('rejects an empty batch and foreign instances without writing', () => {
    const store = replica()
    const writer = createClaimWriter({ origin: 'me', gen: 1, replica: store })
    expect(() => writer.write([])).toThrow(ValidationError)
    expect(() => writer.write([{ id: 'x', instance: instanceOf('x', 'other') }])).toThrow(
      ValidationError,
    )
    expect(() => writer.write([{ id: 'x', instance: instanceOf('y', 'me') }])).toThrow(
      ValidationError,
    )
    expect(store.origin('me')).toEqual({ gen: 1, covered: 0, floor: 0 })
    expect(store.size).toBe(0)
  })
})
