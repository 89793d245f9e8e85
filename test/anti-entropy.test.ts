import type { GrapevineAgent } from '@grapevine/agent'
import { waitFor } from '@grapevine/core/testing'
import { describe, expect, it } from 'vitest'
import { startCluster } from './support/cluster.js'

describe('anti-entropy', () => {
  it('gives a late joiner 10k existing instances through sync alone', async () => {
    const cluster = await startCluster(2)
    try {
      const [seed, second] = cluster.agents as [GrapevineAgent, GrapevineAgent]
      for (let i = 0; i < 5_000; i++) {
        await seed.register({
          id: `s-${i}`,
          name: `bulk-${i % 100}`,
          endpoints: [`http://10.0.0.1:${i + 1}`],
        })
        await second.register({
          id: `t-${i}`,
          name: `bulk-${i % 100}`,
          endpoints: [`http://10.0.0.2:${i + 1}`],
        })
      }
      await waitFor('10k instances on the second node', () => second.stats().instances === 10_000, {
        timeoutMs: 30_000,
      })
      // Everything was published before the joiner existed: only sync can bring it.
      const startedAt = performance.now()
      const joiner = await cluster.add()
      await joiner.ready
      await waitFor('10k instances on the joiner', () => joiner.stats().instances === 10_000, {
        timeoutMs: 30_000,
      })
      const took = performance.now() - startedAt
      expect(joiner.getService('bulk-7')).toHaveLength(100)
      expect(joiner.stats().syncSessions).toBeGreaterThan(0)
      console.log(`late joiner holds 10k instances after ${took.toFixed(0)} ms`)
    } finally {
      await cluster.stop()
    }
  })

  it('converges with every DELTA dropped on purpose', async () => {
    // Heartbeats still flow; every write must travel by sync (heartbeat-triggered pulls and
    // the periodic round), not by gossip.
    const cluster = await startCluster(4, {
      faults: { dropDeltas: 1 },
      timings: { syncInterval: 1_000 },
    })
    try {
      const ids = await Promise.all(
        cluster.agents.map((agent, i) =>
          agent.register({ name: 'lossy', version: `v${i}`, endpoints: ['http://127.0.0.1:9'] }),
        ),
      )
      const removed = ids[0]!
      await cluster.agents[0]!.deregister(removed)
      const expected = ids.slice(1).sort()
      await waitFor(
        'every node to hold the same 3 instances',
        () =>
          cluster.agents.every(
            (agent) =>
              JSON.stringify(
                agent
                  .getService('lossy')
                  .map((i) => i.id)
                  .sort(),
              ) === JSON.stringify(expected),
          ),
        { timeoutMs: 15_000 },
      )
      const dropped = cluster.agents.reduce((n, agent) => n + (agent.stats().dropped.fault ?? 0), 0)
      expect(dropped).toBeGreaterThan(0)
    } finally {
      await cluster.stop()
    }
  })

  it("repairs lost DELTAs from the probes' digest tags, with no periodic round", async () => {
    // No DELTA arrives and the periodic round is an hour away: only a sync session started
    // because a probe carried a differing digest tag can bring the write.
    const cluster = await startCluster(3, {
      faults: { dropDeltas: 1 },
      timings: { syncInterval: 3_600_000 },
    })
    try {
      const [writer] = cluster.agents as [GrapevineAgent]
      const id = await writer.register({ name: 'tagged', endpoints: ['http://127.0.0.1:9'] })
      await waitFor(
        'every node to hold the instance',
        () => cluster.agents.every((agent) => agent.getService('tagged').some((i) => i.id === id)),
        { timeoutMs: 10_000 },
      )
      await writer.deregister(id)
      await waitFor(
        'every node to drop it',
        () => cluster.agents.every((agent) => agent.getService('tagged').length === 0),
        { timeoutMs: 10_000 },
      )
    } finally {
      await cluster.stop()
    }
  })
})
