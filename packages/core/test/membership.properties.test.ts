import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { MemberRecord } from '../src/membership-types.js'
import { suspicionTimeout } from '../src/suspicion.js'
import { createSwim } from '../src/swim.js'
import { SWIM_PROFILES } from '../src/swim-profiles.js'
import { seededRandom } from '../src/testing/random.js'
import { MembershipSim, type NetworkModel } from './sim/membership-sim.js'

/**
 * Properties of the membership protocol in the pure simulator (sim/membership-sim.ts):
 * message loss, delay, partitions and a paused node. Each property runs 500 seeded cases of
 * a small cluster; a failing case prints its seed and parameters.
 */

const T = SWIM_PROFILES.lan
const RUNS = 500

const network = (loss: number, jitter: number): NetworkModel => ({
  loss,
  delayMin: 0.2,
  delayJitter: jitter,
  flood: true,
  floodDelay: 2,
})

/** The longest a crash may take to be dead everywhere in a cluster of `n` (see DESIGN.md). */
function crashBound(n: number): number {
  const min = suspicionTimeout(T.suspicionMult, n, T.probeInterval)
  // Probed within n periods (round-robin), the full suspicion with no confirmation, then
  // dissemination and a few periods of slack for lost messages.
  return n * T.probeInterval + min * T.suspicionMaxMult + 8 * T.probeInterval
}

const cluster = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  size: fc.integer({ min: 3, max: 8 }),
  loss: fc.double({ min: 0, max: 0.05, noNaN: true }),
  jitter: fc.double({ min: 0, max: 20, noNaN: true }),
})

describe('membership properties (simulated)', () => {
  it('never declares a node that keeps answering dead for good (loss, delay, a partition)', () => {
    fc.assert(
      fc.property(
        cluster,
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.option(fc.integer({ min: 500, max: 8_000 }), { nil: undefined }),
        (c, chaosLoss, partitionMs) => {
          const sim = new MembershipSim({
            size: c.size,
            timings: T,
            network: network(chaosLoss, c.jitter),
            random: seededRandom(c.seed),
          })
          sim.run(2_000)
          if (partitionMs !== undefined) {
            sim.partition(Array.from({ length: Math.floor(c.size / 2) }, (_, i) => i))
            sim.run(partitionMs)
            sim.heal()
          }
          sim.network = network(c.loss, c.jitter)
          const took = sim.runUntilTrue(15_000, () =>
            sim.nodes.every((_, i) => sim.everyoneSees(i, 'alive')),
          )
          expect(took, JSON.stringify({ c, chaosLoss, partitionMs })).toBeDefined()
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('declares a crashed node dead on every node within the bound (refused or silent)', () => {
    fc.assert(
      fc.property(cluster, fc.boolean(), fc.integer({ min: 0, max: 3 }), (c, refuses, noticed) => {
        const sim = new MembershipSim({
          size: c.size,
          timings: T,
          network: network(c.loss, c.jitter),
          random: seededRandom(c.seed),
        })
        sim.run(1_000)
        const victim = c.size - 1
        sim.crash(victim, refuses)
        if (refuses) sim.noticeClose(victim, sim.observers(victim).slice(0, noticed))
        const took = sim.runUntilTrue(crashBound(c.size), () => sim.everyoneSees(victim, 'dead'))
        expect(took, JSON.stringify({ c, refuses, noticed })).toBeDefined()
      }),
      { numRuns: RUNS },
    )
  })

  it('lets a refutation beat a stale suspicion, in any order, on every node', () => {
    fc.assert(
      fc.property(
        cluster,
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        (c, suspectFirst) => {
          const sim = new MembershipSim({
            size: c.size,
            timings: T,
            network: network(c.loss, c.jitter),
            random: seededRandom(c.seed),
          })
          sim.run(1_000)
          const accused = sim.nodes[0]!
          const stale: MemberRecord = {
            kind: 'suspect',
            id: accused.id,
            gen: 1,
            incarnation: accused.swim.incarnation,
            from: sim.nodes[1]!.id,
            sig: new Uint8Array(0),
          }
          // The accused hears of the suspicion and refutes; the others get the stale
          // suspicion before or after the refutation reaches them.
          accused.swim.receiveRecord(stale)
          const refutation = accused.swim.drain().floods[0]!
          expect(refutation).toMatchObject({ kind: 'alive', incarnation: stale.incarnation + 1 })
          for (const [i, node] of sim.nodes.entries()) {
            if (i === 0) continue
            const order = suspectFirst[i % 8] ? [stale, refutation] : [refutation, stale]
            for (const record of order) node.swim.receiveRecord(record)
            expect(sim.stateAt(i, 0)).toBe('alive')
          }
          sim.run(crashBound(c.size))
          expect(sim.everyoneSees(0, 'alive'), JSON.stringify(c)).toBe(true)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('brings a paused node back alive everywhere soon after it resumes', () => {
    fc.assert(
      fc.property(cluster, fc.integer({ min: 100, max: 10_000 }), (c, pauseMs) => {
        const sim = new MembershipSim({
          size: c.size,
          timings: T,
          network: network(c.loss, c.jitter),
          random: seededRandom(c.seed),
        })
        sim.run(1_000)
        const paused = c.size - 1
        sim.pause(paused)
        sim.run(pauseMs)
        sim.resume(paused)
        const took = sim.runUntilTrue(4_000, () => sim.everyoneSees(paused, 'alive'))
        expect(took, JSON.stringify({ c, pauseMs })).toBeDefined()
      }),
      { numRuns: RUNS },
    )
  })
})

describe('refutation ordering (single machine)', () => {
  it('ends alive at the refuting incarnation whatever the order of stale records', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.constantFrom('suspect', 'dead', 'alive-old', 'alive-new'), {
          minLength: 1,
          maxLength: 8,
        }),
        (inc, sequence) => {
          const sig = new Uint8Array(0)
          const swim = createSwim({
            self: 'a',
            gen: 1,
            name: 'a',
            addrs: [],
            cluster: 'p',
            now: () => 0,
            random: seededRandom(inc + 1),
            timings: T,
            signer: { sign: () => sig },
            purgeAfter: 1e9,
          })
          const alive = (incarnation: number): MemberRecord => ({
            kind: 'alive',
            id: 'b',
            gen: 1,
            incarnation,
            name: 'b',
            addrs: [],
            sig,
          })
          swim.receiveRecord(alive(inc))
          const records: Record<string, MemberRecord> = {
            suspect: { kind: 'suspect', id: 'b', gen: 1, incarnation: inc, from: 'c', sig },
            dead: { kind: 'dead', id: 'b', gen: 1, incarnation: inc, from: 'c', sig },
            'alive-old': alive(inc),
            'alive-new': alive(inc + 1),
          }
          for (const kind of sequence) swim.receiveRecord(records[kind]!)
          swim.receiveRecord(alive(inc + 1))
          for (const kind of sequence) if (kind !== 'alive-new') swim.receiveRecord(records[kind]!)
          expect(swim.member('b')).toMatchObject({ state: 'alive', incarnation: inc + 1 })
        },
      ),
      { numRuns: RUNS },
    )
  })
})
