import { waitFor } from '@grapevine/core/testing'
import { beforeEach, describe, expect, it } from 'vitest'
import { createAgentClient } from '../src/client/agent-client.js'
import { useTestServer } from './support/api-server.js'

const server = useTestServer()

beforeEach(async () => {
  await server.agent.register({ id: 'web-1', name: 'web', endpoints: ['http://127.0.0.1:8080'] })
})

async function get(path: string, signal?: AbortSignal) {
  const res = await fetch(`${server.url}${path}`, signal === undefined ? {} : { signal })
  return { index: Number(res.headers.get('x-grapevine-index')), body: await res.json() }
}

describe('blocking queries on /v1/services/:name', () => {
  it('returns at once without an index, with index=0, or when the index is stale', async () => {
    const first = await get('/v1/services/web')
    expect(first.index).toBeGreaterThan(0)
    expect((await get('/v1/services/web?index=0&wait=10m')).index).toBe(first.index)
    expect((await get('/v1/services/web?index=12345&wait=10m')).index).toBe(first.index)
  })

  it('holds the request until the service changes, then returns the new list and index', async () => {
    const first = await get('/v1/services/web')
    let answered = false
    const pending = get(`/v1/services/web?index=${first.index}&wait=30s`).then((r) => {
      answered = true
      return r
    })
    // The change to another service must not wake it with an unchanged answer.
    await server.agent.register({ id: 'db-1', name: 'db' })
    await new Promise((resolve) => setImmediate(resolve))
    expect(answered).toBe(false)
    const t0 = performance.now()
    await server.agent.register({ id: 'web-2', name: 'web', endpoints: ['http://127.0.0.1:8081'] })
    const second = await pending
    expect(performance.now() - t0).toBeLessThan(1000)
    expect(second.index).not.toBe(first.index)
    expect(second.body.map((i: { id: string }) => i.id)).toEqual(['web-1', 'web-2'])
  })

  it('returns the unchanged result with the same index when the wait runs out', async () => {
    const first = await get('/v1/services/web')
    const t0 = performance.now()
    const again = await get(`/v1/services/web?index=${first.index}&wait=200ms`)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190)
    expect(again.index).toBe(first.index)
    expect(again.body).toEqual(first.body)
  })

  it('does not wake for a change its filters exclude', async () => {
    const first = await get('/v1/services/web?tag=edge')
    const pending = get(`/v1/services/web?tag=edge&index=${first.index}&wait=30s`)
    await server.agent.register({ id: 'web-2', name: 'web' })
    await server.agent.register({ id: 'web-3', name: 'web', tags: ['edge'] })
    const second = await pending
    expect(second.body.map((i: { id: string }) => i.id)).toEqual(['web-3'])
  })

  it('wakes on deregistration and gives equal indexes for equal content', async () => {
    const first = await get('/v1/services/web')
    await server.agent.register({ id: 'web-2', name: 'web' })
    const second = await get('/v1/services/web')
    const pending = get(`/v1/services/web?index=${second.index}&wait=30s`)
    await server.agent.deregister('web-2')
    const third = await pending
    expect(third.index).toBe(first.index)
  })

  it('blocks on the whole service list too', async () => {
    const first = await get('/v1/services')
    const pending = get(`/v1/services?index=${first.index}&wait=30s`)
    await server.agent.register({ id: 'db-1', name: 'db' })
    const second = await pending
    expect(Object.keys(second.body)).toEqual(['db', 'web'])
  })

  it('ends waiting requests when the server closes', async () => {
    const first = await get('/v1/services/web')
    const pending = get(`/v1/services/web?index=${first.index}&wait=10m`).catch((err) => err)
    // Close only once the request has reached the server.
    await waitFor(
      'the blocking request to connect',
      () =>
        new Promise<boolean>((resolve) =>
          server.api.server.server.getConnections((_err, count) => resolve(count > 0)),
        ),
    )
    const t0 = performance.now()
    await server.api.close()
    await pending
    expect(performance.now() - t0).toBeLessThan(2000)
  })

  it('is exposed by the client as service(name, query, {index, wait})', async () => {
    const client = createAgentClient({ baseUrl: server.url })
    const first = await client.service('web')
    const pending = client.service('web', {}, { index: first.index, wait: '30s' })
    await server.agent.deregister('web-1')
    expect(await pending).toMatchObject({ instances: [] })
  })
})
