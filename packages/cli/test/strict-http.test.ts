import { LIMITS, type ServiceEvent } from '@grapevine/core'
import { describe, expect, it } from 'vitest'
import type { WatchMessage } from '../src/api-types.js'
import { createAgentClient } from '../src/client/agent-client.js'
import { useTestServer } from './support/api-server.js'

const server = useTestServer({ keepAliveMs: 20 })

const post = (url: string, body: unknown) =>
  server.api.server.inject({
    method: 'POST',
    url,
    payload: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  })

describe('strict input on the native routes', () => {
  // Finding 3: ids of 101–128 characters were accepted, but fastify's default maxParamLength
  // of 100 answered 414 to every route that names them.
  it('addresses the longest id and name validation allows, percent-encoded, on every route', async () => {
    const id = ':@'.repeat(LIMITS.idLength / 2) // every character percent-encodes to 3
    const name = 'n'.repeat(LIMITS.nameLength)
    expect((await post('/v1/register', { id, name })).statusCode).toBe(200)
    const list = await server.api.server.inject({ method: 'GET', url: `/v1/services/${name}` })
    expect(list.statusCode).toBe(200)
    expect(list.json()).toHaveLength(1)
    const head = await server.api.server.inject({ method: 'HEAD', url: `/v1/watch/${name}` })
    expect(head.statusCode).toBe(200)
    const ttl = await server.api.server.inject({
      method: 'POST',
      url: `/v1/ttl/${encodeURIComponent(id)}/${encodeURIComponent(id)}/pass`,
    })
    expect(ttl.statusCode).not.toBe(414)
    const res = await server.api.server.inject({
      method: 'DELETE',
      url: `/v1/instances/${encodeURIComponent(id)}`,
    })
    expect(res.statusCode).toBe(200)
    expect(server.agent.getService(name)).toEqual([])
  })

  // Issue 12, friction point 1: `{"Name":"api"}` is pointed at `name`; `{}` says "is required".
  it('refuses an unknown field with a 400 that names it; a Consul-cased body is pointed at `name`', async () => {
    const consul = await post('/v1/register', { Name: 'api' })
    expect(consul.statusCode).toBe(400)
    expect(consul.json().error).toMatchObject({ code: 'ERR_VALIDATION', field: 'Name' })
    expect(consul.json().error.message).toContain('did you mean "name"?')
    const missing = await post('/v1/register', {})
    expect(missing.json().error).toMatchObject({
      field: 'name',
      message: 'invalid name: is required',
    })
    const empty = await server.api.server.inject({ method: 'POST', url: '/v1/register' })
    expect(empty.statusCode).toBe(400)
    expect(empty.json().error.field).toBe('body')
    expect(server.agent.services({ includeCritical: true }).size).toBe(0)
  })

  it('refuses a body nested deeper than the limit before parsing it, and any depth in an unknown field', async () => {
    const deep = `{"name":"svc","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`
    const res = await post('/v1/register', deep)
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'ERR_VALIDATION', field: 'body' })
    // Brackets inside strings are text, not nesting.
    const text = await post('/v1/register', { name: 'svc', version: '[[[[[[[[[[[[[[[[[[[[[[' })
    expect(text.statusCode).toBe(200)
  })

  // Finding 6: `?meta=__proto__:x` was ignored, so the query returned everything.
  it('answers 400 to a metadata query on a key no instance can have', async () => {
    await post('/v1/register', { name: 'web', metadata: { zone: 'a' } })
    for (const key of ['__proto__', 'constructor', 'bad key']) {
      const res = await server.api.server.inject({
        method: 'GET',
        url: `/v1/services/web?meta=${encodeURIComponent(`${key}:x`)}`,
      })
      expect(res.statusCode, key).toBe(400)
      expect(res.json().error.field).toBe('meta')
    }
  })

  // Finding 5: `.` and `..` cannot be deregistered through fetch or the CLI.
  it.each(['.', '..'])('refuses to register the id %j', async (id) => {
    const res = await post('/v1/register', { id, name: 'svc' })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.field).toBe('id')
  })

  // Finding 4: a lone surrogate made replicas differ.
  it('refuses a lone surrogate, escaped in JSON', async () => {
    const res = await post('/v1/register', '{"name":"svc","version":"v\\ud800"}')
    expect(res.statusCode).toBe(400)
    expect(res.json().error.field).toBe('version')
  })
})

describe('watch stream', () => {
  // Finding 7: HEAD /v1/watch/:name never answered.
  it('answers HEAD at once, with the stream headers and no body', async () => {
    const res = await fetch(`${server.url}/v1/watch/web`, {
      method: 'HEAD',
      signal: AbortSignal.timeout(2_000),
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const bad = await fetch(`${server.url}/v1/watch/bad%20name`, { method: 'HEAD' })
    expect(bad.status).toBe(400)
  })

  // Finding 10: five deletions in one batch came as one `change` naming one of them.
  it('a change carries every event of its batch', async () => {
    const ids = ['w1', 'w2', 'w3', 'w4', 'w5']
    for (const id of ids) await server.agent.register({ id, name: 'web' })
    const client = createAgentClient({ baseUrl: server.url })
    const controller = new AbortController()
    const messages: WatchMessage[] = []
    for await (const message of client.watch('web', {}, controller.signal)) {
      messages.push(message)
      // One synchronous burst: the view changes five times before the stream can write.
      if (messages.length === 1) for (const id of ids) void server.agent.deregister(id)
      if (messages.at(-1)?.instances.length === 0) break
    }
    controller.abort()
    const changes = messages.filter((m) => m.type === 'change')
    const events: ServiceEvent[] = changes.flatMap((m) => (m.type === 'change' ? m.events : []))
    expect(events.map((e) => `${e.op}:${e.instance.id}`)).toEqual(ids.map((id) => `delete:${id}`))
    for (const change of changes) {
      if (change.type === 'change') expect(change.event).toEqual(change.events.at(-1))
    }
  })
})
