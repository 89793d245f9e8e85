import { expect } from 'vitest'
import type { ServiceEvent } from '../../src/agent-api.js'
import type { Claim } from '../../src/claim.js'
import type { ServiceInstance } from '../../src/instance.js'
import type { Replica } from '../../src/replica-types.js'
import type { SimCluster, SimNode } from './cluster.js'

export function claimKey(claim: Claim): string {
  return `${claim.origin}/${claim.gen}:${claim.id}@${claim.seq}${claim.instance === null ? '~' : ''}`
}

/** Every stored claim of a replica (tombstones marked `~`), sorted. */
export function claimsOf(replica: Replica, live = false): string[] {
  const out: string[] = []
  for (const origin of Object.keys(replica.digest())) {
    for (const claim of replica.claimsOf(origin)) {
      if (!live || claim.instance !== null) out.push(claimKey(claim))
    }
  }
  return out.sort()
}

/** The digest without floors: floors are each replica's own GC mark and may differ. */
export function coverage(replica: Replica): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [origin, state] of Object.entries(replica.digest())) {
    out[origin] = `gen ${state.gen} covered ${state.covered}`
  }
  return out
}

/** The oracle: each origin's latest live write of its current generation. */
function expectedLive(cluster: SimCluster): string[] {
  const out: string[] = []
  for (const sim of cluster.nodes) {
    for (const claim of sim.writes.values()) if (claim.instance !== null) out.push(claimKey(claim))
  }
  return out.sort()
}

/** The resolved view with critical instances, as plain data. */
function viewOf(sim: SimNode): [string, ServiceInstance[]][] {
  return [...sim.node.services({ includeCritical: true })].sort(([a], [b]) => (a < b ? -1 : 1))
}

/** Applies a node's events to an empty map, strictly: add only new ids, update/delete known ones. */
function replay(events: readonly ServiceEvent[]): Map<string, ServiceInstance> {
  const state = new Map<string, ServiceInstance>()
  for (const [i, event] of events.entries()) {
    const { id } = event.instance
    const known = state.has(id)
    const where = `event ${i} ${event.op}/${event.cause} of ${id}`
    if (event.op === 'add') expect(known, `${where}: id already present`).toBe(false)
    else expect(known, `${where}: id not present`).toBe(true)
    if (event.op === 'delete') state.delete(id)
    else state.set(id, event.instance)
  }
  return state
}

/**
 * What every run must end with, after `cluster.converge()`: one state everywhere, equal to
 * the oracle (so nothing deleted came back), views equal, and each node's events replaying
 * to its view. Then, once every tombstone is collectable, equal claim sets including
 * tombstones (none left).
 */
export function expectConverged(cluster: SimCluster): void {
  const [first, ...rest] = cluster.nodes
  if (first === undefined) return
  const expected = expectedLive(cluster)

  for (const sim of cluster.nodes) {
    const replica = sim.node.replica
    expect(coverage(replica), `digest of ${sim.id}`).toEqual(coverage(first.node.replica))
    for (const [origin, state] of Object.entries(replica.digest())) {
      expect(state.floor, `${sim.id} still inside a snapshot of ${origin}`).toBeLessThanOrEqual(
        state.covered,
      )
    }
    expect(claimsOf(replica, true), `live claims of ${sim.id}`).toEqual(expected)
  }

  // No resurrection, spelled out: an id whose last write by its origin is a tombstone is
  // live from that origin nowhere.
  for (const origin of cluster.nodes) {
    for (const write of origin.writes.values()) {
      if (write.instance !== null) continue
      for (const sim of cluster.nodes) {
        const revived = sim.node.replica
          .claimsFor(write.id)
          .find((claim) => claim.origin === origin.id && claim.instance !== null)
        expect(revived, `${write.id} of ${origin.id} live again on ${sim.id}`).toBeUndefined()
      }
    }
  }

  const view = viewOf(first)
  for (const sim of rest) {
    expect(viewOf(sim), `view of ${sim.id}`).toEqual(view)
    for (const [name] of view) {
      expect(sim.node.getService(name), `getService(${name}) on ${sim.id}`).toEqual(
        first.node.getService(name),
      )
    }
    const conflicts = (s: SimNode) => s.node.conflicts().sort((a, b) => (a.id < b.id ? -1 : 1))
    expect(conflicts(sim), `conflicts on ${sim.id}`).toEqual(conflicts(first))
  }
  for (const sim of cluster.nodes) {
    const replayed = [...replay(sim.events).values()].sort((a, b) => (a.id < b.id ? -1 : 1))
    const current = viewOf(sim)
      .flatMap(([, instances]) => instances)
      .sort((a, b) => (a.id < b.id ? -1 : 1))
    expect(replayed, `events of ${sim.id} replayed`).toEqual(current)
  }

  cluster.collectAllGarbage()
  for (const sim of cluster.nodes) {
    expect(claimsOf(sim.node.replica), `claims of ${sim.id} after GC`).toEqual(expected)
  }
}
