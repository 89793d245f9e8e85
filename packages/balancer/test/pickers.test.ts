import { seededRandom } from '@grapevine/core/testing'
import { describe, expect, it } from 'vitest'
import { toCandidates } from '../src/candidates.js'
import { createP2CPicker } from '../src/p2c.js'
import type { Candidate, Picker } from '../src/picker.js'
import { createRandomPicker } from '../src/random.js'
import { createRoundRobinPicker } from '../src/round-robin.js'
import { createWeightedPicker, instanceWeight } from '../src/weighted.js'
import { instance, tally } from './support.js'

function candidates(ids: string[], weights: Record<string, string> = {}): Candidate[] {
  return toCandidates(
    ids.map((id, i) =>
      instance(id, [`http://127.0.0.1:${8000 + i}`], {
        metadata: weights[id] === undefined ? {} : { weight: weights[id] },
      }),
    ),
    [],
  )
}

function picks(picker: Picker, list: readonly Candidate[], n: number): string[] {
  return Array.from({ length: n }, () => picker.pick(list).candidate.instance.id)
}

describe('round-robin', () => {
  it('gives each of n candidates exactly k of k·n picks, in key order', () => {
    const list = candidates(['a', 'b', 'c', 'd', 'e'])
    const seq = picks(createRoundRobinPicker({ random: seededRandom(1) }), list, 5 * 200)
    expect([...tally(seq).values()]).toEqual([200, 200, 200, 200, 200])
    const start = 'abcde'.indexOf(seq[0]!)
    for (const [i, id] of seq.entries()) expect(id).toBe('abcde'[(start + i) % 5])
  })

  it('starts at a random position so that clients started together spread', () => {
    const list = candidates(['a', 'b', 'c', 'd'])
    const random = seededRandom(2)
    const firsts = Array.from(
      { length: 400 },
      () => picks(createRoundRobinPicker({ random }), list, 1)[0],
    )
    for (const count of tally(firsts).values()) expect(count).toBeGreaterThan(60)
  })
})

describe('random', () => {
  it('is uniform within 5% over 40,000 picks (±5.8σ)', () => {
    const list = candidates(['a', 'b', 'c', 'd'])
    const counts = tally(picks(createRandomPicker({ random: seededRandom(3) }), list, 40_000))
    for (const count of counts.values()) expect(Math.abs(count - 10_000)).toBeLessThan(500)
  })
})

describe('weighted', () => {
  it('reads weights from metadata; missing or invalid means 1, 0 is valid', () => {
    const weightOf = (weight?: string) =>
      instanceWeight(instance('x', [], { metadata: weight === undefined ? {} : { weight } }))
    expect(weightOf()).toBe(1)
    expect(weightOf('3')).toBe(3)
    expect(weightOf('0.5')).toBe(0.5)
    expect(weightOf('0')).toBe(0)
    for (const bad of ['', ' ', '-2', 'abc', 'NaN', 'Infinity', '1e400', '0x10', '2 3']) {
      expect(weightOf(bad), bad).toBe(1)
    }
  })

  it('is smooth: weights 5,1,1 give a a b a c a a (nginx)', () => {
    const list = candidates(['a', 'b', 'c'], { a: '5', b: '1', c: '1' })
    expect(picks(createWeightedPicker(), list, 14).join('')).toBe('aabacaaaabacaa')
  })

  it('matches the weights within 0.5% over 10,000 picks, drained instances get none', () => {
    const list = candidates(['a', 'b', 'c', 'd', 'e', 'f'], {
      a: '1',
      b: '2',
      c: '3',
      d: '4',
      e: '0',
      f: 'oops', // counts as 1
    })
    const counts = tally(picks(createWeightedPicker(), list, 11_000))
    const expected: Record<string, number> = { a: 1000, b: 2000, c: 3000, d: 4000, f: 1000 }
    for (const [id, want] of Object.entries(expected)) {
      expect(Math.abs((counts.get(id) ?? 0) - want), id).toBeLessThanOrEqual(want * 0.005)
    }
    expect(counts.get('e')).toBeUndefined()
  })

  it('spreads evenly when every candidate weighs 0', () => {
    const list = candidates(['a', 'b'], { a: '0', b: '0' })
    expect([...tally(picks(createWeightedPicker(), list, 10)).values()]).toEqual([5, 5])
  })

  it('forgets departed candidates on update', () => {
    const picker = createWeightedPicker()
    const list = candidates(['a', 'b'], { a: '3', b: '1' })
    picks(picker, list, 3)
    const next = candidates(['b', 'c'], { b: '1', c: '1' })
    picker.update?.(next)
    expect(new Set(picks(picker, next, 4))).toEqual(new Set(['b', 'c']))
  })
})

/** Drives a p2c picker with a fake clock: each call takes `latency(id)` ms. */
function simulate(
  picker: Picker,
  list: readonly Candidate[],
  n: number,
  clock: { t: number },
  latency: (id: string) => number,
  error: (id: string) => boolean = () => false,
): Map<string, number> {
  const chosen: string[] = []
  for (let i = 0; i < n; i++) {
    const picked = picker.pick(list)
    const id = picked.candidate.instance.id
    chosen.push(id)
    clock.t += latency(id)
    picked.done?.({ latencyMs: latency(id), error: error(id) ? new Error('refused') : undefined })
  }
  return tally(chosen)
}

describe('p2c', () => {
  it('prefers the faster instance', () => {
    const clock = { t: 0 }
    const picker = createP2CPicker({ random: seededRandom(4), now: () => clock.t })
    const list = candidates(['fast', 'mid', 'slow'])
    const ms: Record<string, number> = { fast: 5, mid: 20, slow: 80 }
    const counts = simulate(picker, list, 3_000, clock, (id) => ms[id]!)
    const share = (id: string) => (counts.get(id) ?? 0) / 3_000
    // Each pair is drawn a third of the time and the faster of the two wins: fast ≈ 2/3,
    // mid ≈ 1/3, slow only when its average has decayed below mid's.
    expect(share('fast')).toBeGreaterThan(0.6)
    expect(share('mid')).toBeGreaterThan(0.25)
    expect(share('slow')).toBeLessThan(0.02)
  })

  it('balances in-flight calls between equally fast instances', () => {
    const picker = createP2CPicker({ random: seededRandom(5), now: () => 0 })
    const list = candidates(['a', 'b'])
    const open = Array.from({ length: 10 }, () => picker.pick(list))
    const counts = tally(open.map((p) => p.candidate.instance.id))
    expect(counts.get('a')).toBe(5)
    expect(counts.get('b')).toBe(5)
  })

  it('avoids an instance whose calls fail fast (connection refused)', () => {
    const clock = { t: 0 }
    const picker = createP2CPicker({ random: seededRandom(6), now: () => clock.t })
    const list = candidates(['dead', 'ok'])
    const ms = (id: string) => (id === 'dead' ? 0.1 : 10)
    const counts = simulate(picker, list, 1_000, clock, ms, (id) => id === 'dead')
    expect(counts.get('ok')).toBeGreaterThan(980)
  })

  it('gives a new instance the mean latency of the others as a neutral prior', () => {
    const clock = { t: 0 }
    const script: number[] = []
    const picker = createP2CPicker({ random: () => script.shift() ?? 0, now: () => clock.t })
    const [a, b, c] = candidates(['a', 'b', 'c'])
    // Teach a = 10 ms, b = 30 ms with c absent.
    for (const [candidate, ms] of [
      [a!, 10],
      [b!, 30],
    ] as const) {
      const picked = picker.pick([candidate])
      picked.done?.({ latencyMs: ms })
    }
    const all = [a!, b!, c!]
    // randomIndex(3) then randomIndex(2) choose the pair: (b, c) → c (prior 20 < 30)…
    script.push(1 / 3, 0.5)
    const vsB = picker.pick(all)
    expect(vsB.candidate.instance.id).toBe('c')
    vsB.done?.({ latencyMs: 20 })
    // …and (a, c) → a (10 < 20).
    script.push(0, 0.5)
    expect(picker.pick(all).candidate.instance.id).toBe('a')
  })
})
