import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createReplica } from '../src/replica.js'
import type { Delta, Replica, SyncPart } from '../src/replica-types.js'
import { isVisibleState } from '../src/resolve.js'
import { seededRandom } from '../src/testing/random.js'
import { compareVectors } from '../src/version-vector.js'
import { claimsOf, expectConverged } from './sim/checks.js'
import { SimCluster } from './sim/cluster.js'
import { scenarioArbitrary } from './sim/ops.js'
import { shuffle } from './sim/prng.js'

/**
 * Property tests of the merge over the simulated network (see `sim/`). Runs per property:
 * GRAPEVINE_PROPERTY_RUNS (default 500). On failure fast-check prints the seed and path;
 * replay with `fc.assert(..., { seed, path })`.
 */
const RUNS = Number(process.env.GRAPEVINE_PROPERTY_RUNS ?? 500)

type Input = { delta: Delta } | { part: SyncPart }

function applyInput(replica: Replica, input: Input): number {
  const result = 'delta' in input ? replica.applyDelta(input.delta) : replica.applyPart(input.part)
  return result.changedIds.size
}

function stateOf(replica: Replica): { claims: string[]; digest: unknown; size: number } {
  return { claims: claimsOf(replica), digest: replica.digest(), size: replica.size }
}

function fresh(): Replica {
  // A fixed clock: no GC here, the algebra is about merging alone.
  return createReplica({ now: () => 0, tombstoneTtl: 1_000 })
}

describe('properties', () => {
  it('after any run and a round of full pairwise syncs: one state, one view, nothing resurrected, events replay', () => {
    fc.assert(
      fc.property(scenarioArbitrary, (scenario) => {
        const cluster = SimCluster.run(scenario)
        cluster.converge()
        expectConverged(cluster)
      }),
      { numRuns: RUNS },
    )
  })

  it('a live owner’s claim is never superseded by another origin: the shown claim is after no other live, visible claim', () => {
    fc.assert(
      fc.property(scenarioArbitrary, (scenario) => {
        const cluster = SimCluster.run(scenario)
        cluster.converge()
        for (const sim of cluster.nodes) {
          const node = sim.node
          const visible = (origin: string): boolean =>
            origin === node.nodeId || isVisibleState(node.liveness.state(origin))
          for (const [, instances] of node.services({ includeCritical: true })) {
            for (const shown of instances) {
              const claims = node.replica.claimsFor(shown.id)
              const winner = claims.find((claim) => claim.origin === shown.node)!
              for (const other of claims) {
                if (other === winner || other.instance === null || !visible(other.origin)) continue
                expect(
                  compareVectors(winner.vv, other.vv),
                  `${sim.id} shows ${shown.id} of ${shown.node}`,
                ).not.toBe('after')
              }
            }
          }
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('merge is commutative, associative and idempotent: any interleaving, grouping or duplication of the same deltas and parts gives the same replica', () => {
    fc.assert(
      fc.property(scenarioArbitrary, fc.integer(), fc.integer(), (scenario, seedA, seedB) => {
        // Uncut replies: a snapshot cut below its level restarts coverage (see replica.ts,
        // rule 5), which converges (property above) but is not order-independent per message.
        const { trace } = SimCluster.run({ ...scenario, budget: Number.MAX_SAFE_INTEGER })
        const inputs: Input[] = [
          ...trace.deltas.map((delta) => ({ delta })),
          ...trace.parts.map((part) => ({ part })),
        ]
        // Each order applies a random third of the inputs twice, at random places.
        const order = (seed: number): Input[] => {
          const random = seededRandom(seed)
          return shuffle([...inputs, ...inputs.filter(() => random() < 0.3)], random)
        }
        const a = fresh()
        for (const input of order(seedA)) applyInput(a, input)
        const b = fresh()
        for (const input of order(seedB)) applyInput(b, input)
        const state = stateOf(a)
        expect(stateOf(b)).toEqual(state)

        // Idempotent: the merged state absorbs every input again without a change.
        for (const input of shuffle(inputs, seededRandom(seedA ^ seedB))) {
          expect(applyInput(a, input)).toBe(0)
        }
        expect(stateOf(a)).toEqual(state)
      }),
      { numRuns: RUNS },
    )
  })
})
