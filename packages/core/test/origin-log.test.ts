import { describe, expect, it } from 'vitest'
import { MAX_PENDING_RANGES, OriginLog } from '../src/origin-log.js'
import { live, tomb } from './replica-fixtures.js'

/** The seqs a log knows among 1..limit, as a compact string. */
function known(log: OriginLog, limit = 20): string {
  let out = ''
  for (let seq = 1; seq <= limit; seq++) out += log.knows(seq) ? '#' : '.'
  return out
}

describe('origin log coverage', () => {
  it('joins contiguous ranges and remembers ranges beyond a hole', () => {
    const log = new OriginLog(1)
    log.join(2)
    log.addPending(5, 6)
    log.addPending(9, 9)
    expect(known(log, 10)).toBe('##..##..#.')
    log.join(4)
    expect(log.covered).toBe(6)
    log.join(8)
    expect(log.covered).toBe(9)
    expect(known(log, 10)).toBe('#########.')
  })

  it.each<[string, [number, number][], string]>([
    [
      'overlapping',
      [
        [5, 8],
        [7, 10],
      ],
      '....######',
    ],
    [
      'adjacent',
      [
        [5, 6],
        [7, 8],
      ],
      '....####..',
    ],
    [
      'disjoint, out of order',
      [
        [9, 10],
        [5, 6],
      ],
      '....##..##',
    ],
    [
      'bridging two',
      [
        [3, 4],
        [8, 9],
        [5, 7],
      ],
      '..#######.',
    ],
  ])('merges %s pending ranges', (_name, ranges, expected) => {
    const log = new OriginLog(1)
    for (const [from, to] of ranges) log.addPending(from, to)
    expect(known(log, 10)).toBe(expected)
  })

  it(`keeps at most ${MAX_PENDING_RANGES} pending ranges, forgetting the highest`, () => {
    const log = new OriginLog(1)
    for (let i = MAX_PENDING_RANGES + 5; i >= 1; i--) log.addPending(3 * i, 3 * i)
    expect(log.knows(3 * MAX_PENDING_RANGES)).toBe(true)
    expect(log.knows(3 * (MAX_PENDING_RANGES + 1))).toBe(false)
  })

  it('a snapshot restart below its level forgets ranges it has not reconciled', () => {
    const log = new OriginLog(1)
    log.join(10)
    log.addPending(12, 13)
    log.addPending(20, 21)
    log.restart(3, 15)
    expect(log.receivingSnapshot).toBe(true)
    expect(known(log, 22)).toBe('###................##.')
    log.restart(19, 15)
    expect(log.receivingSnapshot).toBe(false)
    expect(log.covered).toBe(21)
  })
})

describe('origin log claims', () => {
  it('lists claims in seq order, compacting replaced ones', () => {
    const log = new OriginLog(1)
    const at = () => 0
    const x1 = live('a', 'x', 1)
    log.put(live('a', 'y', 3), undefined, at)
    log.put(x1, undefined, at)
    const x5 = live('a', 'x', 5)
    log.put(x5, x1, at)
    expect(log.ordered().map((c) => c.seq)).toEqual([3, 5])
    expect(log.range(3, 5).map((c) => c.seq)).toEqual([5])
    expect(log.range(0, 4).map((c) => c.seq)).toEqual([3])
  })

  it('keeps tombstone receive times in receive order, only for tombstones', () => {
    const log = new OriginLog(1)
    let time = 0
    const at = () => time
    const x1 = tomb('a', 'x', 1)
    log.put(x1, undefined, at)
    time = 5
    log.put(tomb('a', 'y', 2), undefined, at)
    time = 9
    const x3 = tomb('a', 'x', 3)
    log.put(x3, x1, at)
    expect([...(log.tombstones ?? new Map())]).toEqual([
      ['y', 5],
      ['x', 9],
    ])
    log.put(live('a', 'x', 4), x3, at)
    expect([...(log.tombstones ?? new Map()).keys()]).toEqual(['y'])
  })

  it('keeps only the latest of many rewrites of one key', () => {
    const log = new OriginLog(1)
    let previous = live('a', 'x', 1)
    log.put(previous, undefined, () => 0)
    for (let seq = 2; seq <= 10_000; seq++) {
      const next = live('a', 'x', seq)
      log.put(next, previous, () => 0)
      previous = next
    }
    expect(log.ordered()).toEqual([previous])
  })
})
