import type { ServiceInstance } from '@grapevine/core'
import { beforeEach, describe, expect, it } from 'vitest'
import { startTestServer, useTestServer, web1 } from './support/api-server.js'

const server = useTestServer()

async function inject(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) {
  return server.api.server.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    headers: { 'content-type': 'application/json' },
  })
}

describe('register and deregister', () => {
  it('registers an instance and returns its id', async () => {
    const res = await inject('POST', '/v1/register', web1)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ id: 'web-1', checks: [] })
    expect(server.agent.getService('web').map((i) => i.id)).toEqual(['web-1'])
  })

  it('generates an id when none is given', async () => {
    const res = await inject('POST', '/v1/register', { name: 'web' })
    expect(res.statusCode).toBe(200)
    expect(typeof res.json().id).toBe('string')
  })

  it('accepts JSON sent with another content type (curl -d)', async () => {
    const res = await server.api.server.inject({
      method: 'POST',
      url: '/v1/register',
      payload: JSON.stringify(web1),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(res.statusCode).toBe(200)
  })

  it.each([
    [{ ...web1, name: '' }, 'name'],
    [{ ...web1, name: 'bad name!' }, 'name'],
    [{ ...web1, endpoints: ['not a url'] }, 'endpoints[0]'],
    [{ ...web1, tags: 'edge' }, 'tags'],
    [{ ...web1, metadata: { zone: 1 } }, 'metadata.zone'],
    [{ ...web1, id: 'has space' }, 'id'],
    [[web1], 'registration'],
  ])('answers 400 naming the field and changes nothing: %j', async (body, field) => {
    await inject('POST', '/v1/register', { ...web1, id: 'existing' })
    const before = server.agent.services({ includeCritical: true })
    const res = await inject('POST', '/v1/register', body)
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'ERR_VALIDATION', field })
    expect(res.json().error.message).toContain(field)
    expect(server.agent.services({ includeCritical: true })).toEqual(before)
  })

  it('answers 400 ERR_BAD_JSON to a body that is not JSON, and changes nothing', async () => {
    const res = await server.api.server.inject({
      method: 'POST',
      url: '/v1/register',
      payload: '{"name": "web",',
      headers: { 'content-type': 'application/json' },
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.code).toBe('ERR_BAD_JSON')
    expect(server.agent.services().size).toBe(0)
  })

  it('deregisters by DELETE /v1/instances/:id and PUT /v1/deregister/:id', async () => {
    await inject('POST', '/v1/register', web1)
    await inject('POST', '/v1/register', { ...web1, id: 'web-2' })
    expect((await inject('DELETE', '/v1/instances/web-1')).json()).toEqual({ id: 'web-1' })
    expect((await inject('PUT', '/v1/deregister/web-2')).statusCode).toBe(200)
    expect(server.agent.getService('web')).toEqual([])
  })

  it('answers 404 to deregistering an unknown id', async () => {
    const res = await inject('DELETE', '/v1/instances/nope')
    expect(res.statusCode).toBe(404)
    expect(res.json().error.code).toBe('ERR_NOT_FOUND')
  })

  it('answers 501 to TTL reports when the agent has no health checks, 400 to a bad status', async () => {
    expect((await inject('POST', '/v1/ttl/web-1/ttl-0/pass')).statusCode).toBe(501)
    const bad = await inject('POST', '/v1/ttl/web-1/ttl-0/maybe')
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.field).toBe('status')
  })

  it('passes TTL reports to an agent with health checks', async () => {
    const reports: unknown[] = []
    const agent = Object.assign(server.agent, {
      ttl: (...args: unknown[]) => {
        reports.push(args)
      },
      checks: () => [{ id: 'ttl-0', status: 'passing' as const }],
    })
    expect(agent.ttl).toBeDefined()
    await inject('POST', '/v1/register', web1)
    const res = await inject('POST', '/v1/ttl/web-1/ttl-0/warn', { note: 'slow' })
    expect(res.json()).toEqual({ instanceId: 'web-1', checkId: 'ttl-0', status: 'warn' })
    expect(reports).toEqual([['web-1', 'ttl-0', 'warn', 'slow']])
    const instances = (await inject('GET', '/v1/instances')).json()
    expect(instances[0].checks).toEqual([{ id: 'ttl-0', status: 'passing' }])
  })
})

describe('queries', () => {
  beforeEach(async () => {
    await server.agent.register(web1)
    await server.agent.register({
      ...web1,
      id: 'web-2',
      version: 'v2',
      tags: [],
      metadata: { zone: 'b' },
    })
    await server.agent.register({ ...web1, id: 'web-3', status: 'critical' })
    await server.agent.register({ id: 'db-1', name: 'db', tags: ['edge'] })
  })

  const ids = (body: ServiceInstance[]) => body.map((i) => i.id)

  it('lists services with their healthy instances, optionally by tag or with critical ones', async () => {
    const all = (await inject('GET', '/v1/services')).json()
    expect(Object.keys(all)).toEqual(['db', 'web'])
    expect(ids(all.web)).toEqual(['web-1', 'web-2'])
    const edge = (await inject('GET', '/v1/services?tag=edge')).json()
    expect(ids(edge.web)).toEqual(['web-1'])
    const withCritical = (await inject('GET', '/v1/services?all=true')).json()
    expect(ids(withCritical.web)).toEqual(['web-1', 'web-2', 'web-3'])
  })

  it('filters one service by tag, version, metadata and health', async () => {
    const get = async (query: string) =>
      ids((await inject('GET', `/v1/services/web${query}`)).json())
    expect(await get('')).toEqual(['web-1', 'web-2'])
    expect(await get('?tag=edge')).toEqual(['web-1'])
    expect(await get('?version=v2')).toEqual(['web-2'])
    expect(await get('?meta=zone=a')).toEqual(['web-1'])
    expect(await get('?meta=zone=a&all=true')).toEqual(['web-1', 'web-3'])
    expect(await get('?tag=edge&tag=missing')).toEqual([])
  })

  // Issue 12, friction points 4 (`meta=K=V` over HTTP, as `--meta K=V`) and 5 (`?passing`).
  it('takes metadata as key=value, as --meta does, and ?passing for passing instances only', async () => {
    await server.agent.register({ id: 'web-4', name: 'web', status: 'warning' })
    await server.agent.register({ id: 'down-1', name: 'down', status: 'critical' })
    const get = async (path: string) => (await inject('GET', path)).json()
    expect(ids(await get('/v1/services/web'))).toEqual(['web-1', 'web-2', 'web-4'])
    expect(ids(await get('/v1/services/web?passing'))).toEqual(['web-1', 'web-2'])
    expect(ids(await get('/v1/services/web?passing&meta=zone=b'))).toEqual(['web-2'])
    const passing = await get('/v1/services?passing=true')
    expect(Object.keys(passing)).toEqual(['db', 'web'])
    expect(ids(passing.web)).toEqual(['web-1', 'web-2'])
    const res = await inject('GET', '/v1/services/web?meta=zone:a')
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ field: 'meta' })
    expect(res.json().error.message).toContain('key=value')
    expect((await inject('GET', '/v1/services/web?passing&all')).statusCode).toBe(400)
  })

  it('answers an unknown service with an empty list and an index header', async () => {
    const res = await inject('GET', '/v1/services/nothing')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual([])
    expect(Number(res.headers['x-grapevine-index'])).toBeGreaterThan(0)
  })

  it.each([
    ['/v1/services/web?meta=zone', 'meta'],
    ['/v1/services/web?version=a&version=b', 'version'],
    ['/v1/services/web?all=maybe', 'all'],
    ['/v1/services/web?index=abc', 'index'],
    ['/v1/services/web?index=1&wait=soon', 'wait'],
    ['/v1/services/web?index=1&wait=11m', 'wait'],
    ['/v1/services/bad%20name', 'name'],
  ])('answers 400 naming the field for %s', async (url, field) => {
    const res = await inject('GET', url)
    expect(res.statusCode).toBe(400)
    expect(res.json().error.field).toBe(field)
  })

  it('lists members, conflicts, own instances and who the agent is', async () => {
    const members = (await inject('GET', '/v1/members')).json()
    expect(members).toMatchObject([{ id: 'node-a', state: 'alive', self: true }])
    expect((await inject('GET', '/v1/conflicts')).json()).toEqual([])
    const own = (await inject('GET', '/v1/instances')).json()
    expect(own.map((i: ServiceInstance) => i.id)).toEqual(['db-1', 'web-1', 'web-2', 'web-3'])
    expect(own[0].checks).toEqual([])
    const self = (await inject('GET', '/v1/self')).json()
    expect(self).toMatchObject({ peerId: 'node-a', addresses: [], ready: true })
    expect(self.stats.instances).toBe(4)
  })
})

describe('probes, metrics and errors', () => {
  it('/health is 200; /ready follows agent.ready', async () => {
    expect((await inject('GET', '/health')).json()).toEqual({ status: 'ok' })
    expect((await inject('GET', '/ready')).json()).toEqual({ ready: true })

    let resolveReady!: () => void
    const ready = new Promise<void>((resolve) => {
      resolveReady = resolve
    })
    const slow = await startTestServer({ agent: { ...server.agent, ready } })
    try {
      const before = await slow.api.server.inject({ method: 'GET', url: '/ready' })
      expect(before.statusCode).toBe(503)
      resolveReady()
      await ready
      const after = await slow.api.server.inject({ method: 'GET', url: '/ready' })
      expect(after.statusCode).toBe(200)
    } finally {
      await slow.api.close()
    }
  })

  it('serves Prometheus metrics from agent.stats()', async () => {
    await server.agent.register(web1)
    const stats = {
      ...server.agent.stats(),
      peers: { alive: 3, suspect: 1, dead: 0, left: 0 },
      messagesIn: 10,
      messagesOut: 7,
      bytesIn: 1000,
      bytesOut: 700,
      syncSessions: 4,
      dropped: { decode: 2, signer: 1 },
    }
    const metered = await startTestServer({ agent: { ...server.agent, stats: () => stats } })
    try {
      const res = await metered.api.server.inject({ method: 'GET', url: '/metrics' })
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toContain('text/plain')
      const text = res.body
      expect(text).toContain('grapevine_replica_claims 1')
      expect(text).toContain('grapevine_instances 1')
      expect(text).toContain('grapevine_conflicts 0')
      expect(text).toContain('grapevine_peers{state="alive"} 3')
      expect(text).toContain('grapevine_peers{state="suspect"} 1')
      expect(text).toContain('grapevine_messages_total{direction="in"} 10')
      expect(text).toContain('grapevine_bytes_total{direction="out"} 700')
      expect(text).toContain('grapevine_sync_sessions_total 4')
      expect(text).toContain('grapevine_dropped_messages_total{reason="decode"} 2')
      // Counters mirror the agent's totals, so a second scrape does not double them.
      stats.messagesIn = 15
      const again = (await metered.api.server.inject({ method: 'GET', url: '/metrics' })).body
      expect(again).toContain('grapevine_messages_total{direction="in"} 15')
      expect(again).toContain('grapevine_dropped_messages_total{reason="decode"} 2')
    } finally {
      await metered.api.close()
    }
  })

  it('answers unknown routes with a JSON 404', async () => {
    const res = await inject('GET', '/v1/nothing')
    expect(res.statusCode).toBe(404)
    expect(res.json().error.code).toBe('ERR_ROUTE_NOT_FOUND')
  })

  it('answers 503 once the agent has stopped', async () => {
    await server.agent.stop()
    const res = await inject('GET', '/v1/services/web')
    expect(res.statusCode).toBe(503)
    expect(res.json().error.code).toBe('ERR_AGENT_STOPPED')
  })
})

describe('bearer token', () => {
  it('refuses requests without the token on every route but /health, and changes nothing', async () => {
    const guarded = await startTestServer({ token: 's3cret' })
    try {
      const call = (method: 'GET' | 'POST', url: string, authorization?: string) =>
        guarded.api.server.inject({
          method,
          url,
          ...(method === 'POST' ? { payload: JSON.stringify(web1) } : {}),
          headers: {
            'content-type': 'application/json',
            ...(authorization === undefined ? {} : { authorization }),
          },
        })
      for (const url of ['/v1/services', '/v1/members', '/metrics', '/ready', '/v1/watch/web']) {
        const res = await call('GET', url)
        expect(res.statusCode, url).toBe(401)
        expect(res.json().error.code).toBe('ERR_UNAUTHORIZED')
        expect(res.headers['www-authenticate']).toBe('Bearer')
      }
      expect((await call('POST', '/v1/register')).statusCode).toBe(401)
      expect((await call('POST', '/v1/register', 'Bearer wrong')).statusCode).toBe(401)
      expect((await call('POST', '/v1/register', 's3cret')).statusCode).toBe(401)
      expect(guarded.agent.services().size).toBe(0)

      expect((await call('GET', '/health')).statusCode).toBe(200)
      expect((await call('POST', '/v1/register', 'Bearer s3cret')).statusCode).toBe(200)
      expect((await call('GET', '/v1/services/web', 'bearer s3cret')).json()).toHaveLength(1)
    } finally {
      await guarded.close()
    }
  })

  // Issue 12, friction point 9: probes and scrapes without the token.
  it('leaves /ready and /metrics open with --token-exempt, and nothing else', async () => {
    const guarded = await startTestServer({ token: 's3cret', tokenExempt: ['ready', 'metrics'] })
    try {
      const get = (url: string) => guarded.api.server.inject({ method: 'GET', url })
      expect((await get('/ready')).statusCode).toBe(200)
      expect((await get('/metrics')).statusCode).toBe(200)
      expect((await get('/metrics?x=1')).statusCode).toBe(200)
      for (const url of ['/v1/services', '/v1/self', '/readyz', '/metrics/x', '/v1/activity']) {
        expect((await get(url)).statusCode, url).toBe(401)
      }
    } finally {
      await guarded.close()
    }
  })
})
