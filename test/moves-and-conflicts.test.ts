import { waitFor } from '@grapevine/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type TestCluster } from './support/cluster.js'

describe('one instance id claimed by several nodes', () => {
  let cluster: TestCluster

  beforeAll(async () => {
    cluster = await startCluster(3)
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('moves an id from node A to node B only once A lets go; until then A keeps it and every node reports the conflict', async () => {
    const [a, b] = cluster.agents as [(typeof cluster.agents)[0], (typeof cluster.agents)[0]]
    const id = 'mover-1'
    await a.register({ id, name: 'mover', endpoints: ['http://10.0.0.1:80'] })
    await waitFor('the claim of A everywhere', () =>
      cluster.agents.every((agent) => agent.getService('mover')[0]?.node === a.peerId),
    )
    // B registers the same id after seeing A's claim: a takeover of a live owner's instance.
    await b.register({ id, name: 'mover', endpoints: ['http://10.0.0.2:80'] })
    await waitFor('the takeover attempt reported on every node', () =>
      cluster.agents.every((agent) =>
        agent.conflicts().some((c) => c.id === id && c.claimants.length === 2),
      ),
    )
    for (const agent of cluster.agents) {
      expect(agent.getService('mover')).toEqual([
        expect.objectContaining({ id, node: a.peerId, endpoints: ['http://10.0.0.1:80'] }),
      ])
      expect(agent.stats().conflictsSeen).toBeGreaterThanOrEqual(1)
    }
    await a.deregister(id)
    await waitFor('the claim of B everywhere, without a conflict', () =>
      cluster.agents.every(
        (agent) =>
          agent.getService('mover')[0]?.node === b.peerId &&
          !agent.conflicts().some((c) => c.id === id),
      ),
    )
    for (const agent of cluster.agents) {
      expect(agent.getService('mover')).toEqual([
        expect.objectContaining({ id, node: b.peerId, endpoints: ['http://10.0.0.2:80'] }),
      ])
    }
  })

  it('resolves a concurrent claim identically everywhere and reports it as a conflict', async () => {
    const [a, b, c] = cluster.agents as [
      (typeof cluster.agents)[0],
      (typeof cluster.agents)[0],
      (typeof cluster.agents)[0],
    ]
    const id = 'twin-1'
    // Neither has seen the other's claim when it writes: the two vectors are concurrent.
    await Promise.all([
      a.register({ id, name: 'twin', endpoints: ['http://10.0.0.1:80'] }),
      b.register({ id, name: 'twin', endpoints: ['http://10.0.0.2:80'] }),
    ])
    const conflictEverywhere = await waitFor('the conflict on every node', () => {
      const reports = cluster.agents.map((agent) => agent.conflicts().find((x) => x.id === id))
      return reports.every((r) => r !== undefined && r.claimants.length === 2) ? reports : undefined
    })
    const winners = conflictEverywhere.map((report) => report!.winner.node)
    expect(new Set(winners).size).toBe(1)
    expect([a.peerId, b.peerId]).toContain(winners[0])
    for (const agent of [a, b, c]) {
      expect(agent.getService('twin').map((i) => i.node)).toEqual([winners[0]])
    }
  })
})
