import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAgent, type GrapevineAgent } from '@grapevine/agent'
import type { Member, ServiceEvent, ServiceInstance } from '@grapevine/core'
import { waitFor } from '@grapevine/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AgentProcess, startAgentProcess } from './support/agent-process.js'
import { loopbackOptions } from './support/cluster.js'

// Agents as separate OS processes, watched from an agent in the test process.
describe('agents in separate processes', () => {
  let observer: GrapevineAgent
  let dataRoot: string
  const processes: AgentProcess[] = []

  const spawnAgent = async (dataDir?: string): Promise<AgentProcess> => {
    const agent = await startAgentProcess(
      loopbackOptions({
        cluster: 'processes',
        bootstrap: [...observer.addresses],
        ...(dataDir && { dataDir }),
      }),
    )
    processes.push(agent)
    await agent.ready
    return agent
  }

  const seenBy = (agent: GrapevineAgent, name: string): readonly ServiceInstance[] =>
    agent.getService(name)

  beforeAll(async () => {
    observer = await createAgent(loopbackOptions({ cluster: 'processes' }))
    dataRoot = await mkdtemp(join(tmpdir(), 'grapevine-processes-'))
  })
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.signal('SIGKILL')))
    await observer.stop()
    await rm(dataRoot, { recursive: true, force: true })
  })

  it('removes the instances of a kill -9ed node from the other nodes, with cause expired', async () => {
    const victim = await spawnAgent()
    const survivor = await spawnAgent()
    await victim.call('register', { name: 'doomed', endpoints: ['http://127.0.0.1:1'] })
    await waitFor('doomed on the observer', () => seenBy(observer, 'doomed').length === 1)
    await waitFor('doomed on the survivor', async () => {
      const list = await survivor.call<ServiceInstance[]>('getService', 'doomed')
      return list.length === 1
    })
    const events: ServiceEvent[] = []
    const stream = observer.events('doomed')
    void (async () => {
      for await (const event of stream) events.push(event)
    })()

    const killedAt = performance.now()
    await victim.signal('SIGKILL')
    await waitFor('doomed gone from the observer', () => seenBy(observer, 'doomed').length === 0)
    const detectionMs = performance.now() - killedAt
    await waitFor('doomed gone from the survivor', async () => {
      const list = await survivor.call<ServiceInstance[]>('getService', 'doomed')
      return list.length === 0
    })
    expect(events.map((e) => [e.op, e.cause])).toEqual([['delete', 'expired']])
    // The closed connection is the fast path: far below the lease of a silent node.
    expect(detectionMs).toBeLessThan(1_500)
    const victimMember = await waitFor('the victim listed as dead', () =>
      observer.members().find((m) => m.id === victim.peerId && m.state === 'dead'),
    )
    expect(victimMember.state).toBe('dead')
  })

  it('removes the instances of a node that leaves, with cause left', async () => {
    const leaver = await spawnAgent()
    await leaver.call('register', { name: 'leaving', endpoints: ['http://127.0.0.1:2'] })
    await waitFor('leaving on the observer', () => seenBy(observer, 'leaving').length === 1)
    const events: ServiceEvent[] = []
    const stream = observer.events('leaving')
    void (async () => {
      for await (const event of stream) events.push(event)
    })()
    await leaver.call('leave')
    await leaver.exited
    await waitFor('leaving gone from the observer', () => seenBy(observer, 'leaving').length === 0)
    expect(events.map((e) => [e.op, e.cause])).toEqual([['delete', 'left']])
    const member = await waitFor('the leaver listed as left', () =>
      observer.members().find((m: Member) => m.id === leaver.peerId && m.state === 'left'),
    )
    expect(member.state).toBe('left')
  })

  it('replaces the old generation’s claims when a node restarts with the same data dir', async () => {
    const dataDir = join(dataRoot, 'restarting')
    const first = await spawnAgent(dataDir)
    const keptId = await first.call<string>('register', { name: 'kept', version: 'v1' })
    const droppedId = await first.call<string>('register', { name: 'dropped', version: 'v1' })
    await first.call('deregister', droppedId)
    const transientId = await first.call<string>('register', { name: 'transient' })
    await waitFor(
      'kept and transient on the observer',
      () => seenBy(observer, 'kept').length === 1 && seenBy(observer, 'transient').length === 1,
    )
    const firstGen = observer.members().find((m) => m.id === first.peerId)?.gen

    await first.signal('SIGKILL')
    const second = await spawnAgent(dataDir)
    expect(second.peerId).toBe(first.peerId)
    // The new generation announces what its data dir holds; the deregistered one stays gone.
    await second.call('deregister', transientId)
    await waitFor('the restarted generation on the observer', () => {
      const member = observer.members().find((m) => m.id === second.peerId)
      return member !== undefined && member.gen > (firstGen ?? 0) && member.state === 'alive'
    })
    await waitFor(
      'transient gone after the restart',
      () => seenBy(observer, 'transient').length === 0,
    )
    expect(seenBy(observer, 'kept').map((i) => i.id)).toEqual([keptId])
    expect(seenBy(observer, 'dropped')).toEqual([])
  })
})
