import { describe, expect, it } from 'vitest'
import { isVisibleState, resolve } from '../src/resolve.js'
import { claim, instance, liveClaim } from './view-fixtures.js'

const everyone = () => true

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]]
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  )
}

describe('resolve', () => {
  it('picks the only live claim', () => {
    const a = liveClaim('A', 'x', 'svc', { A: 1 })
    expect(resolve([a], everyone)).toEqual({ winner: a, claimants: ['A'] })
  })

  it('has no winner for no claims, a lone tombstone or an invisible origin', () => {
    expect(resolve([], everyone).winner).toBeUndefined()
    expect(resolve([claim('A', 'x', { A: 2 }, null)], everyone)).toEqual({
      winner: undefined,
      claimants: [],
    })
    const a = liveClaim('A', 'x', 'svc', { A: 1 })
    expect(resolve([a], (origin) => origin !== 'A').winner).toBeUndefined()
  })

  it('keeps a live owner against a dominating claim of another origin, as a conflict (finding 3)', () => {
    const a = liveClaim('A', 'x', 'svc', { A: 1 })
    const b = liveClaim('B', 'x', 'svc', { A: 1, B: 1 })
    expect(resolve([a, b], everyone)).toEqual({ winner: a, claimants: ['A', 'B'] })
    expect(resolve([b, a], everyone)).toEqual({ winner: a, claimants: ['A', 'B'] })
    // Hiding it does not work either: a critical or renamed takeover loses the same way.
    const hide = claim('B', 'x', { A: 1, B: 9 }, instance('x', 'other', 'B'))
    expect(resolve([hide, a], everyone).winner).toBe(a)
  })

  it('moves an instance once the old owner tombstoned it, left or died', () => {
    const tomb = claim('A', 'x', { A: 2 }, null)
    const b = liveClaim('B', 'x', 'svc', { A: 2, B: 1 })
    expect(resolve([tomb, b], everyone)).toEqual({ winner: b, claimants: ['B'] })
    const a = liveClaim('A', 'x', 'svc', { A: 1 })
    expect(resolve([a, b], (origin) => origin !== 'A')).toEqual({ winner: b, claimants: ['B'] })
  })

  it('reports concurrent claims; the larger vector sum wins', () => {
    const a = liveClaim('A', 'x', 'svc', { A: 2 })
    const b = liveClaim('B', 'x', 'svc', { B: 1 })
    expect(resolve([b, a], everyone)).toEqual({ winner: a, claimants: ['A', 'B'] })
  })

  it('breaks equal sums by the larger origin id', () => {
    const a = liveClaim('A', 'x', 'svc', { A: 1 })
    const b = liveClaim('B', 'x', 'svc', { B: 1 })
    expect(resolve([a, b], everyone)).toEqual({ winner: b, claimants: ['B', 'A'] })
  })

  it('never lets a tombstone hide another origin’s live claim', () => {
    const b = liveClaim('B', 'x', 'svc', { B: 1 })
    const tomb = claim('A', 'x', { A: 5, B: 1 }, null)
    expect(resolve([tomb, b], everyone)).toEqual({ winner: b, claimants: ['B'] })
  })

  it('ignores invisible origins before deciding who owns the id', () => {
    const a = liveClaim('A', 'x', 'svc', { A: 1 })
    const b = liveClaim('B', 'x', 'svc', { B: 1 })
    const c = liveClaim('C', 'x', 'svc', { A: 1, B: 1, C: 1 })
    // B would win the tie against A; once B is dead, A is the only incumbent C sits on.
    expect(resolve([a, b, c], (origin) => origin !== 'B')).toEqual({
      winner: a,
      claimants: ['A', 'C'],
    })
  })

  it('gives the same answer for every order of the claims', () => {
    const claims = [
      liveClaim('A', 'x', 'svc', { A: 1 }),
      liveClaim('B', 'x', 'svc', { A: 1, B: 1 }),
      liveClaim('C', 'x', 'svc', { C: 2 }),
      liveClaim('D', 'x', 'svc', { D: 2 }),
      claim('E', 'x', { E: 9 }, null),
    ]
    const expected = resolve(claims, everyone)
    expect(expected.winner?.origin).toBe('D')
    expect(expected.claimants).toEqual(['D', 'C', 'B', 'A'])
    for (const order of permutations(claims)) expect(resolve(order, everyone)).toEqual(expected)
  })

  it('treats equal vectors as concurrent', () => {
    const a = claim('A', 'x', { A: 1, B: 1 }, instance('x', 'svc', 'A'))
    const b = claim('B', 'x', { A: 1, B: 1 }, instance('x', 'svc', 'B'))
    expect(resolve([a, b], everyone).claimants).toEqual(['B', 'A'])
  })
})

describe('isVisibleState', () => {
  it.each([
    ['alive', true],
    ['suspect', true],
    [undefined, true],
    ['dead', false],
    ['left', false],
  ] as const)('%s → %s', (state, visible) => {
    expect(isVisibleState(state)).toBe(visible)
  })
})
