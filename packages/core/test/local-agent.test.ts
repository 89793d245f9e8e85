import { describe, expect, it } from 'vitest'
import { createLocalAgent } from '../src/local-agent.js'

// The Agent compliance suite runs on the local agent in packages/compliance/test.
describe('local agent specifics', () => {
  it('uses the given node id and clock, and reports itself as the only member', async () => {
    let time = 0
    const agent = createLocalAgent({ nodeId: 'node-1', now: () => time })
    expect(agent.peerId).toBe('node-1')
    expect(agent.addresses).toEqual([])
    const [self] = agent.members()
    expect(agent.members()).toHaveLength(1)
    expect(self).toMatchObject({ id: 'node-1', state: 'alive', self: true, addresses: [] })
    const id = await agent.register({ name: 'svc' })
    expect(agent.getService('svc')[0]?.node).toBe('node-1')
    await agent.deregister(id)
    expect(agent.stats()).toMatchObject({ claims: 1, instances: 0, conflicts: 0 })
    // Tombstones are collected on a later call once their TTL (the lan profile's) ran out.
    time += 61_000
    await agent.register({ name: 'svc' })
    expect(agent.stats()).toMatchObject({ claims: 1, instances: 1 })
    await agent.stop()
  })

  it('has zero network counters', () => {
    const agent = createLocalAgent()
    expect(agent.stats()).toEqual({
      claims: 0,
      instances: 0,
      conflicts: 0,
      conflictsSeen: 0,
      peers: { alive: 1, suspect: 0, dead: 0, left: 0 },
      messagesIn: 0,
      messagesOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      syncSessions: 0,
      dropped: {},
    })
  })

  it('uses the given id generator', async () => {
    const agent = createLocalAgent({ generateId: () => 'fixed-id' })
    await expect(agent.register({ name: 'svc' })).resolves.toBe('fixed-id')
  })
})
