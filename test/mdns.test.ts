import type { Member, ServiceInstance } from '@grapevine/core'
import { waitFor } from '@grapevine/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AgentProcess, startAgentProcess } from './support/agent-process.js'
import { createTestNetwork, namespaceUnavailableReason, type TestNetwork } from './support/netns.js'

const unavailable = namespaceUnavailableReason()
if (unavailable !== undefined) {
  console.warn(
    `mDNS auto-join tests skipped: ${unavailable} (they run as root on Linux, as CI does)`,
  )
}

// Three hosts on a bridge, each in a network namespace this test makes: the agents get no
// addresses at all and must find each other by multicast DNS, which never leaves the bridge.
describe.skipIf(unavailable !== undefined)('mDNS auto-join between network namespaces', () => {
  let network: TestNetwork
  const agents: AgentProcess[] = []

  beforeAll(async () => {
    network = createTestNetwork(3)
    for (const host of network.hosts) {
      agents.push(
        await startAgentProcess(
          { cluster: 'mdns-test', mdns: true, listen: ['/ip4/0.0.0.0/tcp/0'] },
          { netns: host },
        ),
      )
    }
  })
  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.signal('SIGKILL')))
    network?.destroy()
  })

  it('finds every peer with no address given and replicates a registration', async () => {
    const startedAt = performance.now()
    for (const agent of agents) {
      await waitFor(
        `agent ${agent.peerId} to see both peers alive`,
        async () => {
          const members = await agent.call<Member[]>('members')
          return members.filter((m) => !m.self && m.state === 'alive').length === 2
        },
        { timeoutMs: 20_000, intervalMs: 50 },
      )
    }
    const discoveryMs = performance.now() - startedAt
    const id = await agents[0]!.call<string>('register', {
      name: 'found-by-mdns',
      endpoints: [`http://${network.address(0)}:8080`],
    })
    for (const agent of agents) {
      const list = await waitFor('the registration on every namespace', async () => {
        const instances = await agent.call<ServiceInstance[]>('getService', 'found-by-mdns')
        return instances.length === 1 ? instances : undefined
      })
      expect(list[0]!.id).toBe(id)
    }
    expect(discoveryMs).toBeLessThan(20_000)
  })
})
