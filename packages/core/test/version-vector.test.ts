import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  compareVectors,
  incrementVector,
  mergeVectors,
  type Ordering,
  type VersionVector,
  vectorSum,
} from '../src/version-vector.js'

const vector = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 0, max: 5 }))

describe('compareVectors', () => {
  it.each<[VersionVector, VersionVector, Ordering]>([
    [{}, {}, 'equal'],
    [{ a: 1 }, { a: 1 }, 'equal'],
    [{ a: 0 }, {}, 'equal'],
    [{ a: 1 }, { a: 2 }, 'before'],
    [{ a: 1 }, { a: 1, b: 1 }, 'before'],
    [{}, { a: 1 }, 'before'],
    [{ a: 2 }, { a: 1 }, 'after'],
    [{ a: 1, b: 1 }, { b: 1 }, 'after'],
    [{ a: 1 }, { b: 1 }, 'concurrent'],
    [{ a: 2, b: 1 }, { a: 1, b: 2 }, 'concurrent'],
    [{ a: 1, b: 0 }, { b: 1 }, 'concurrent'],
  ])('%j vs %j is %s', (a, b, expected) => {
    expect(compareVectors(a, b)).toBe(expected)
  })

  it('is antisymmetric', () => {
    const mirror: Record<Ordering, Ordering> = {
      before: 'after',
      after: 'before',
      equal: 'equal',
      concurrent: 'concurrent',
    }
    fc.assert(
      fc.property(vector, vector, (a, b) => compareVectors(b, a) === mirror[compareVectors(a, b)]),
    )
  })
})

describe('mergeVectors', () => {
  it('takes the pointwise maximum', () => {
    expect(mergeVectors({ a: 1, b: 3 }, { b: 2, c: 1 })).toEqual({ a: 1, b: 3, c: 1 })
  })

  it('is a join: commutative, associative, idempotent, an upper bound', () => {
    fc.assert(
      fc.property(vector, vector, vector, (a, b, c) => {
        const ab = mergeVectors(a, b)
        expect(compareVectors(ab, mergeVectors(b, a))).toBe('equal')
        expect(compareVectors(mergeVectors(ab, c), mergeVectors(a, mergeVectors(b, c)))).toBe(
          'equal',
        )
        expect(compareVectors(mergeVectors(a, a), a)).toBe('equal')
        expect(['after', 'equal']).toContain(compareVectors(ab, a))
        expect(['after', 'equal']).toContain(compareVectors(ab, b))
      }),
    )
  })

  it('does not change its inputs', () => {
    const a = Object.freeze({ a: 1 })
    mergeVectors(a, { a: 2 })
    expect(a).toEqual({ a: 1 })
  })
})

describe('incrementVector', () => {
  it('adds one for the node, starting from zero', () => {
    expect(incrementVector({ a: 1 }, 'a')).toEqual({ a: 2 })
    expect(incrementVector({ a: 1 }, 'b')).toEqual({ a: 1, b: 1 })
  })

  it('makes a vector that supersedes the merged ones (how a claim moves an instance)', () => {
    fc.assert(
      fc.property(vector, vector, fc.constantFrom('a', 'b', 'e'), (a, b, node) => {
        const next = incrementVector(mergeVectors(a, b), node)
        expect(compareVectors(a, next)).toBe('before')
        expect(compareVectors(b, next)).toBe('before')
      }),
    )
  })
})

describe('vectorSum', () => {
  it('sums the entries', () => {
    expect(vectorSum({})).toBe(0)
    expect(vectorSum({ a: 2, b: 3 })).toBe(5)
  })
})
