import fc from 'fast-check'
import { it } from 'vitest'
import { SimCluster } from './sim/cluster.js'
import { scenarioArbitrary } from './sim/ops.js'

it('stats', () => {
  const samples = fc.sample(scenarioArbitrary, { numRuns: 500, seed: 42 })
  const s = { runs: 0, ops: 0, liveEnd: 0, withLive: 0, floorsEnd: 0, midSnapshots: 0, cutParts: 0, fullParts: 0, contParts: 0, contEnd: 0, conflicts: 0, events: 0, passes: 0, deltas: 0, parts: 0, gens: 0 }
  for (const sc of samples) {
    const c = SimCluster.run(sc)
    s.runs++
    s.ops += sc.ops.length
    s.deltas += c.trace.deltas.length
    s.parts += c.trace.parts.length
    s.fullParts += c.trace.parts.filter((p) => p.full && p.after === 0 && p.claims.length > 0).length
    s.contParts += c.trace.parts.filter((p) => p.full && p.after > 0).length
    s.cutParts += c.trace.parts.filter((p) => p.claims.length > 0 && p.covered === p.claims[p.claims.length - 1]!.seq).length
    for (const sim of c.nodes) for (const st of Object.values(sim.node.replica.digest())) if (st.floor > st.covered) s.midSnapshots++
    const before = c.trace.parts.length
    const passes = c.converge()
    s.contEnd += c.trace.parts.slice(before).filter((p) => p.full && p.after > 0).length
    s.passes += passes
    const n0 = c.nodes[0]!.node
    const live = n0.instanceCount
    s.liveEnd += live
    if (live > 0) s.withLive++
    for (const sim of c.nodes) {
      for (const st of Object.values(sim.node.replica.digest())) { if (st.floor > 0) s.floorsEnd++; if (st.gen > 1) s.gens++ }
      s.events += sim.events.length
    }
    s.conflicts += n0.conflicts().length
  }
  console.log(JSON.stringify(s))
})
