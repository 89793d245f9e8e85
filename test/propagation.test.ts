import type { ServiceEvent } from '@grapevine/core'
import { waitFor } from '@grapevine/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type TestCluster } from './support/cluster.js'

function collect(stream: AsyncIterableIterator<ServiceEvent>): ServiceEvent[] {
  const events: ServiceEvent[] = []
  void (async () => {
    for await (const event of stream) events.push(event)
  })()
  return events
}

describe.each([3, 10])('a cluster of %i nodes in one process', (size) => {
  let cluster: TestCluster

  beforeAll(async () => {
    cluster = await startCluster(size)
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('shows a registration made on any node on every node, and its deregistration nowhere', async () => {
    const { agents } = cluster
    for (const [index, owner] of [0, size - 1, Math.floor(size / 2)].entries()) {
      const name = `svc-${size}-${index}`
      const id = await agents[owner]!.register({
        name,
        version: 'v1',
        endpoints: ['http://127.0.0.1:8080'],
      })
      await waitFor(`${name} on every node`, () =>
        agents.every((agent) => agent.getService(name).some((i) => i.id === id)),
      )
      for (const agent of agents) {
        expect(agent.getService(name)).toEqual([
          expect.objectContaining({ id, name, node: agents[owner]!.peerId }),
        ])
      }
      await agents[owner]!.deregister(id)
      await waitFor(`${name} gone from every node`, () =>
        agents.every((agent) => agent.getService(name).length === 0),
      )
    }
  })

  it('gives remote watchers add, update and delete with the right causes', async () => {
    const { agents } = cluster
    const name = `watched-${size}`
    const owner = agents[1]!
    const observer = agents[size - 1]!
    const events = collect(observer.events(name))
    const watcher = observer.watch(name)
    const firstChange = watcher.next()

    const id = await owner.register({ name, version: 'v1', metadata: { zone: 'a' } })
    expect((await firstChange).map((i) => i.id)).toEqual([id])
    await owner.register({ id, name, version: 'v2', metadata: { zone: 'a' } })
    const updated = await waitFor('the update on the observer', async () => {
      const list = observer.getService(name)
      return list[0]?.version === 'v2' ? list : undefined
    })
    expect(updated).toHaveLength(1)
    await owner.deregister(id)
    await waitFor('the delete event', () => events.some((e) => e.op === 'delete'))
    expect(events.map((e) => [e.op, e.cause, e.instance.version])).toEqual([
      ['add', 'registered', 'v1'],
      ['update', 'registered', 'v2'],
      ['delete', 'deregistered', 'v2'],
    ])
    await watcher.stop()
  })
})
