import { waitFor } from '@grapevine/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Daemon } from '../../src/daemon/daemon.js'
import { startLoopbackDaemon } from '../support/loopback-daemon.js'

/**
 * Requests shaped as the Go and Java Consul clients send them (their routes, JSON bodies and
 * query strings, from the clients' source), since those clients cannot be installed here.
 * Each test names the client; docs/existing-clients.md has the recipes.
 */
let daemon: Daemon
beforeAll(async () => {
  daemon = await startLoopbackDaemon('dc1')
})
afterAll(async () => {
  await daemon?.shutdown('test')
})

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${daemon.url}${path}`, {
    method,
    // The Go API sends JSON without a content type of its own choosing; Spring sends JSON.
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return {
    status: res.status,
    index: Number(res.headers.get('x-consul-index') ?? 0),
    json: () => JSON.parse(text) as unknown,
    text,
  }
}

interface Entry {
  Service: {
    ID: string
    Tags: string[]
    TaggedAddresses: Record<string, { Address: string; Port: number }>
    Address: string
    Port: number
  }
}

describe('go-kratos contrib/registry/consul', () => {
  it('registers with TaggedAddresses and a TTL heartbeat, and discovers the endpoints back', async () => {
    // registry.ServiceInstance{ID, Name, Version: v1.0.0, Endpoints: [grpc, http]} as kratos sends it
    const registration = {
      ID: 'user-1',
      Name: 'user-service',
      Tags: ['version=v1.0.0'],
      Meta: { region: 'eu' },
      TaggedAddresses: {
        grpc: { Address: 'grpc://127.0.0.1:9000', Port: 9000 },
        http: { Address: 'http://127.0.0.1:8000', Port: 8000 },
      },
      Address: '127.0.0.1',
      Port: 9000,
      Checks: [
        {
          TCP: '127.0.0.1:9',
          Interval: '10s',
          Timeout: '5s',
          DeregisterCriticalServiceAfter: '600s',
        },
        { CheckID: 'service:user-1', TTL: '20s', DeregisterCriticalServiceAfter: '600s' },
      ],
    }
    expect((await call('PUT', '/v1/agent/service/register', registration)).status).toBe(200)
    const [instance] = daemon.agent.localInstances().filter((i) => i.id === 'user-1')
    expect(instance).toMatchObject({
      name: 'user-service',
      version: 'v1.0.0',
      endpoints: ['grpc://127.0.0.1:9000', 'http://127.0.0.1:8000'],
      metadata: { region: 'eu' },
    })
    expect(
      daemon.agent.checks!('user-1')!
        .map((c) => c.id)
        .sort(),
    ).toEqual(['service:user-1', 'service:user-1:1'])

    const first = await call('GET', '/v1/health/service/user-service?passing=1')
    expect(first.json()).toEqual([])
    // UpdateTTL("service:user-1", "pass", "pass") in the Go API; the TCP check still fails
    // (nothing listens on port 9), so the instance is not passing yet: kratos' TCP checks
    // point at the server's real port, which is up.
    const update = await call('PUT', '/v1/agent/check/update/service:user-1', {
      Status: 'passing',
      Output: 'pass',
    })
    expect(update.status).toBe(200)
    const checks = (await call('GET', '/v1/agent/checks')).json() as Record<
      string,
      { Status: string }
    >
    expect(checks['service:user-1']!.Status).toBe('passing')

    // Without ?passing the entry is there, with what kratos reads to rebuild the instance.
    const answer = await call('GET', '/v1/health/service/user-service')
    const all = answer.json() as Entry[]
    expect(all[0]!.Service.Tags).toContain('version=v1.0.0')
    expect(all[0]!.Service.TaggedAddresses).toEqual({
      grpc: { Address: 'grpc://127.0.0.1:9000', Port: 9000 },
      http: { Address: 'http://127.0.0.1:8000', Port: 8000 },
    })
    // kratos' watcher holds this query (wait=55000ms, as the Go API spells 55 s); it returns
    // when the answer changes, here on the deregistration, with a greater index.
    const held = call('GET', `/v1/health/service/user-service?index=${answer.index}&wait=55000ms`)
    expect((await call('PUT', '/v1/agent/service/deregister/user-1')).status).toBe(200)
    const returned = await held
    expect(returned.json()).toEqual([])
    expect(returned.index).toBeGreaterThan(answer.index)
  })
})

describe('go-kit sd/consul', () => {
  it('registers with one HTTP check; the instancer long-polls health with tag and passing', async () => {
    const { createServer } = await import('node:http')
    const health = createServer((_req, res) => res.end('ok'))
    await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve))
    const port = (health.address() as { port: number }).port
    try {
      const first = await call('GET', '/v1/health/service/orders?tag=edge&passing=1')
      expect(first.json()).toEqual([])
      const held = call('GET', `/v1/health/service/orders?tag=edge&passing=1&index=${first.index}`)
      const registration = {
        ID: 'orders-1',
        Name: 'orders',
        Tags: ['edge'],
        Port: port,
        Address: '127.0.0.1',
        Check: { HTTP: `http://127.0.0.1:${port}/health`, Interval: '1s' },
      }
      expect((await call('PUT', '/v1/agent/service/register', registration)).status).toBe(200)
      expect(daemon.agent.checks!('orders-1')!.map((c) => c.id)).toEqual(['service:orders-1'])
      const returned = await held
      // The first answer after registering may still be empty (the check starts critical);
      // go-kit loops, and so does this.
      let index = returned.index
      expect(index).toBeGreaterThan(first.index)
      const already = returned.json() as Entry[]
      const entries =
        already.length === 1
          ? already
          : await waitFor('orders-1 passing', async () => {
              const next = await call(
                'GET',
                `/v1/health/service/orders?tag=edge&passing=1&index=${index}&wait=5s`,
              )
              index = next.index
              const list = next.json() as Entry[]
              return list.length === 1 && list
            })
      expect(entries[0]!.Service).toMatchObject({
        ID: 'orders-1',
        Address: '127.0.0.1',
        Port: port,
      })
      expect((await call('PUT', '/v1/agent/service/deregister/orders-1')).status).toBe(200)
    } finally {
      health.close()
    }
  })
})

describe('Spring Cloud Consul', () => {
  it('registers with a TTL heartbeat (check/pass) and watches the catalog', async () => {
    const catalog = await call('GET', '/v1/catalog/services')
    const watch = call('GET', `/v1/catalog/services?wait=55s&index=${catalog.index}`)
    const registration = {
      ID: 'billing-8080',
      Name: 'billing',
      Tags: ['secure=false'],
      Address: '127.0.0.1',
      Port: 8080,
      Meta: { secure: 'false' },
      Check: { TTL: '30s', DeregisterCriticalServiceAfter: '1m' },
    }
    expect((await call('PUT', '/v1/agent/service/register', registration)).status).toBe(200)
    const watched = await watch
    expect(watched.index).toBeGreaterThan(catalog.index)
    expect(watched.json()).toMatchObject({ billing: ['secure=false'] })
    expect((await call('PUT', '/v1/agent/check/pass/service:billing-8080?note=ok')).status).toBe(
      200,
    )
    await waitFor('billing passing', async () => {
      const list = (await call('GET', '/v1/health/service/billing?passing=true')).json() as Entry[]
      return list.length === 1
    })
    expect((await call('PUT', '/v1/agent/service/deregister/billing-8080')).status).toBe(200)
  })

  it('gets 501 naming KV for Spring Cloud Consul Config', async () => {
    const res = await call('GET', '/v1/kv/config/billing/?recurse')
    expect(res.status).toBe(501)
    expect(res.text).toContain('KV')
  })
})

describe('Prometheus consul_sd_configs', () => {
  it('reads the datacenter from /v1/agent/self, then watches services and their health', async () => {
    const self = (await call('GET', '/v1/agent/self')).json() as { Config: { Datacenter: string } }
    expect(self.Config.Datacenter).toBe('dc1')
    await call('PUT', '/v1/agent/service/register', {
      Name: 'node-exporter',
      Port: 9100,
      Address: '127.0.0.1',
    })
    const services = await call('GET', '/v1/catalog/services?stale=&wait=30000ms&index=1')
    expect(services.json()).toHaveProperty('node-exporter')
    const entries = (
      await call('GET', '/v1/health/service/node-exporter?dc=dc1&stale=&wait=30000ms&index=1')
    ).json() as Entry[]
    expect(entries[0]!.Service).toMatchObject({
      ID: 'node-exporter',
      Address: '127.0.0.1',
      Port: 9100,
    })
    const other = await call('GET', '/v1/health/service/node-exporter?dc=elsewhere')
    expect(other.status).toBe(400)
    await call('PUT', '/v1/agent/service/deregister/node-exporter')
  })
})
