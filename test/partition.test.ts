import type { Member, ServiceInstance } from '@grapevine/core'
import { waitFor } from '@grapevine/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AgentProcess, startAgentProcess } from './support/agent-process.js'
import { namespaceUnavailableReason } from './support/netns.js'
import { createSplitNetwork, type SplitNetwork } from './support/split-network.js'

const unavailable = namespaceUnavailableReason()
if (unavailable !== undefined) {
  console.warn(`partition tests skipped: ${unavailable} (they run as root on Linux, as CI does)`)
}

const ids = (list: ServiceInstance[]) => list.map((i) => i.id).sort()

// Four agent processes, two on each side of a link the test cuts and restores.
describe.skipIf(unavailable !== undefined)('partition and heal', () => {
  let network: SplitNetwork
  const agents: AgentProcess[] = []

  const view = (agent: AgentProcess, name: string) =>
    agent.call<ServiceInstance[]>('getService', name).then(ids)
  const count = async (agent: AgentProcess, state: Member['state']) =>
    (await agent.call<Member[]>('members')).filter((m) => !m.self && m.state === state).length
  const aliveCount = (agent: AgentProcess) => count(agent, 'alive')

  beforeAll(async () => {
    network = createSplitNetwork(2, 2)
    const seedAddress = `/ip4/${network.address(0)}/tcp/4100`
    for (const [i, host] of network.hosts.entries()) {
      agents.push(
        await startAgentProcess(
          {
            cluster: 'partition',
            mdns: false,
            listen: [`/ip4/${network.address(i)}/tcp/${i === 0 ? 4100 : 0}`],
            ...(i > 0 && { bootstrap: [seedAddress] }),
          },
          { netns: host },
        ),
      )
    }
    for (const agent of agents) {
      await waitFor('a full cluster', async () => (await aliveCount(agent)) === 3, {
        timeoutMs: 15_000,
      })
    }
  })
  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.signal('SIGKILL')))
    network?.destroy()
  })

  it('converges both sides’ changes after healing and resurrects nothing', async () => {
    const [a, b, c, d] = agents as [AgentProcess, AgentProcess, AgentProcess, AgentProcess]
    const before = await a.call<string>('register', { id: 'before-a', name: 'split' })
    const doomed = await a.call<string>('register', { id: 'doomed', name: 'split' })
    await waitFor('the first writes everywhere', async () => {
      const views = await Promise.all(agents.map((agent) => view(agent, 'split')))
      return views.every((v) => v.length === 2)
    })

    network.partition()
    // Each side sees the other die once its lease runs out, and hides its instances.
    for (const agent of agents) {
      await waitFor('the other side dead', async () => (await count(agent, 'dead')) === 2, {
        timeoutMs: 10_000,
      })
    }
    expect(await view(c, 'split')).toEqual([])
    // Writes on both sides during the split; C and D still hold `doomed`.
    await a.call('deregister', doomed)
    const duringA = await b.call<string>('register', { id: 'during-b', name: 'split' })
    const duringC = await c.call<string>('register', { id: 'during-c', name: 'split' })
    await waitFor('C’s side to see its own write', async () =>
      (await view(d, 'split')).includes(duringC),
    )
    expect(await view(a, 'split')).toEqual([before, duringA])

    network.heal()
    const expected = [before, duringA, duringC].sort()
    for (const agent of agents) {
      await waitFor(
        'both sides’ writes, and no doomed, everywhere',
        async () => JSON.stringify(await view(agent, 'split')) === JSON.stringify(expected),
        { timeoutMs: 15_000 },
      )
      await waitFor('everyone alive again', async () => (await aliveCount(agent)) === 3, {
        timeoutMs: 15_000,
      })
    }
    // C and D held `doomed` through the split and synced with A afterwards: it stays gone.
    for (const agent of agents) expect(await view(agent, 'split')).not.toContain(doomed)
  })
})
