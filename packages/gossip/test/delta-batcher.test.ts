import { type Claim, type Delta, estimateClaimBytes } from '@grapevine/core'
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createDeltaBatcher, mergeDeltas, splitDelta } from '../src/delta-batcher.js'

const ORIGIN = '12D3KooWGRUVh2YdVtvqzZ7ha4W1mE3bH6aYqUtFddb7hMiyX3xT'

function claim(seq: number, padding = 0): Claim {
  return {
    origin: ORIGIN,
    gen: 1,
    seq,
    id: `svc-${seq}`,
    vv: { [ORIGIN]: seq },
    instance: {
      id: `svc-${seq}`,
      name: 'svc',
      version: 'x'.repeat(padding),
      metadata: {},
      endpoints: [],
      tags: [],
      status: 'passing',
      node: ORIGIN,
    },
  }
}

function delta(fromSeq: number, toSeq: number, padding = 0): Delta {
  const claims: Claim[] = []
  for (let seq = fromSeq; seq <= toSeq; seq++) claims.push(claim(seq, padding))
  return { origin: ORIGIN, gen: 1, fromSeq, toSeq, claims }
}

describe('mergeDeltas', () => {
  it('joins contiguous writes of one origin and generation only', () => {
    expect(mergeDeltas(delta(1, 2), delta(3, 3))).toEqual(delta(1, 3))
    expect(mergeDeltas(delta(1, 2), delta(4, 4))).toBeUndefined()
    expect(mergeDeltas(delta(1, 2), { ...delta(3, 3), gen: 2 })).toBeUndefined()
    expect(mergeDeltas(delta(1, 2), { ...delta(3, 3), origin: 'other' })).toBeUndefined()
  })
})

describe('splitDelta', () => {
  it('pieces are contiguous, cover the input exactly, and fit the budget', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 200, max: 5_000 }),
        (fromSeq, count, padding, budget) => {
          const input = delta(fromSeq, fromSeq + count - 1, padding)
          const pieces = splitDelta(input, budget)
          expect(pieces[0]!.fromSeq).toBe(input.fromSeq)
          expect(pieces[pieces.length - 1]!.toSeq).toBe(input.toSeq)
          for (let i = 1; i < pieces.length; i++) {
            expect(pieces[i]!.fromSeq).toBe(pieces[i - 1]!.toSeq + 1)
          }
          expect(pieces.flatMap((piece) => piece.claims)).toEqual(input.claims)
          for (const piece of pieces) {
            const bytes = piece.claims.reduce((sum, c) => sum + estimateClaimBytes(c), 0)
            expect(piece.claims.length === 1 || bytes <= budget).toBe(true)
            for (const c of piece.claims) {
              expect(c.seq >= piece.fromSeq && c.seq <= piece.toSeq).toBe(true)
            }
          }
        },
      ),
    )
  })
})

describe('createDeltaBatcher', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('sends a burst of writes as one DELTA after the delay', () => {
    vi.useFakeTimers()
    const sent: Delta[][] = []
    const batcher = createDeltaBatcher({ delay: 5 }, { send: (batch) => sent.push(batch) })
    batcher.add(delta(1, 1))
    batcher.add(delta(2, 3))
    batcher.add(delta(4, 4))
    expect(sent).toEqual([])
    vi.advanceTimersByTime(5)
    expect(sent).toEqual([[delta(1, 4)]])
  })

  it('flush() sends at once; stop() drops what is pending', () => {
    vi.useFakeTimers()
    const sent: Delta[][] = []
    const batcher = createDeltaBatcher({ delay: 50 }, { send: (batch) => sent.push(batch) })
    batcher.add(delta(1, 1))
    batcher.flush()
    expect(sent).toEqual([[delta(1, 1)]])
    batcher.add(delta(2, 2))
    batcher.stop()
    vi.advanceTimersByTime(100)
    expect(sent).toHaveLength(1)
  })

  it('splits a batch larger than the budget', () => {
    vi.useFakeTimers()
    const sent: Delta[][] = []
    const batcher = createDeltaBatcher(
      { delay: 1, budgetBytes: 2_000 },
      { send: (batch) => sent.push(batch) },
    )
    batcher.add(delta(1, 40, 100))
    vi.advanceTimersByTime(1)
    expect(sent[0]!.length).toBeGreaterThan(1)
    expect(sent[0]!.flatMap((piece) => piece.claims)).toHaveLength(40)
  })
})
