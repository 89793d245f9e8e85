import { hostname } from 'node:os'
import { seededRandom, waitFor } from '@grapevine/core/testing'
import Consul from 'consul'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Daemon } from '../../src/daemon/daemon.js'
import { startLoopbackDaemon } from '../support/loopback-daemon.js'

/**
 * The Consul routes of one real agent (libp2p on loopback, no peers), driven by the consul npm
 * client and by raw requests shaped as other clients send them. The 3-agent cluster test
 * (test/consul-dns-clients.test.ts) covers what crosses agents.
 */
let daemon: Daemon
let consul: Consul
beforeAll(async () => {
  daemon = await startLoopbackDaemon(`consul-unit-${process.pid}`)
  consul = new Consul({ host: '127.0.0.1', port: Number(new URL(daemon.url).port) })
})
afterAll(async () => {
  await daemon?.shutdown('test')
})

async function put(path: string, body: unknown) {
  const res = await fetch(`${daemon.url}${path}`, {
    method: 'PUT',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: res.status, text: await res.text() }
}

describe('Consul agent routes', () => {
  it('registers with lower-case and snake_case keys, as some clients send them', async () => {
    const res = await put('/v1/agent/service/register', {
      name: 'lower',
      id: 'lower-1',
      port: 9000,
      address: '10.0.0.9',
      tags: ['version=v3', 'edge'],
      check: { ttl: '30s', deregister_critical_service_after: '1m' },
    })
    expect(res).toEqual({ status: 200, text: '' })
    const services = await consul.agent.service.list()
    expect(services['lower-1']).toMatchObject({
      ID: 'lower-1',
      Service: 'lower',
      Address: '10.0.0.9',
      Port: 9000,
      Tags: ['version=v3', 'edge'],
    })
    const [instance] = daemon.agent.localInstances().filter((i) => i.id === 'lower-1')
    expect(instance).toMatchObject({ version: 'v3', endpoints: ['http://10.0.0.9:9000'] })
    // A lone check is service:<id>.
    expect(Object.keys(await consul.agent.check.list())).toContain('service:lower-1')
    await consul.agent.service.deregister('lower-1')
  })

  it('numbers several checks service:<id>:<n>, keeps a given CheckID, and takes TTL reports', async () => {
    await consul.agent.service.register({
      name: 'multi',
      id: 'multi-1',
      port: 80,
      address: '127.0.0.1',
      checks: [
        { name: 'one', ttl: '30s', timeout: '1s' },
        { name: 'two', ttl: '30s', timeout: '1s' },
        { name: 'three', checkid: 'mine', ttl: '30s', timeout: '1s' },
      ],
    })
    const checks = await consul.agent.check.list()
    expect(
      Object.keys(checks)
        .filter((id) => id.startsWith('service:multi') || id === 'mine')
        .sort(),
    ).toEqual(['mine', 'service:multi-1:1', 'service:multi-1:2'])
    for (const id of ['service:multi-1:1', 'service:multi-1:2', 'mine'])
      await consul.agent.check.pass(id)
    await waitFor(
      'multi-1 passing',
      async () => (await consul.health.service({ service: 'multi', passing: true })).length === 1,
    )
    // The Go API's UpdateTTL: PUT /v1/agent/check/update/:id {Status, Output}.
    expect(
      (await put('/v1/agent/check/update/mine', { Status: 'warning', Output: 'slow' })).status,
    ).toBe(200)
    await waitFor(
      'multi-1 warning',
      async () => (await consul.health.service({ service: 'multi', passing: true })).length === 0,
    )
    const all = (await consul.health.service('multi')) as Array<{
      Checks: Array<{ CheckID: string; Status: string }>
    }>
    // Each check as the owner replicates it (friction point 6), after the node's serfHealth.
    expect(all[0]!.Checks.map((c) => `${c.CheckID}:${c.Status}`)).toEqual([
      'serfHealth:passing',
      'service:multi-1:1:passing',
      'service:multi-1:2:passing',
      'mine:warning',
    ])
    await consul.agent.service.deregister('multi-1')
  })

  it('answers /v1/agent/self with Config.Datacenter, Config.NodeName and Member', async () => {
    const self = (await consul.agent.self()) as {
      Config: Record<string, unknown>
      Member: Record<string, unknown>
    }
    expect(self.Config.Datacenter).toBe(`consul-unit-${process.pid}`)
    // The node name (--node-name, the host name by default), as Consul's NodeName is.
    const nodeName = daemon.agent.nodeName ?? daemon.agent.peerId
    expect(self.Config.NodeName).toBe(nodeName)
    expect(self.Member).toMatchObject({ Name: nodeName, Addr: '127.0.0.1', Status: 1 })
    expect(await consul.status.leader()).toMatch(/^127\.0\.0\.1:\d+$/)
  })

  it('answers 501 naming ACL, KV, sessions, prepared queries and Connect', async () => {
    for (const [path, word] of [
      ['/v1/acl/tokens', 'ACL'],
      ['/v1/kv/some/key', 'KV'],
      ['/v1/session/list', 'sessions'],
      ['/v1/query', 'prepared queries'],
      ['/v1/connect/ca/roots', 'Connect'],
    ] as const) {
      const res = await fetch(`${daemon.url}${path}`)
      expect(res.status).toBe(501)
      expect(await res.text()).toContain(word)
    }
    const connect = await put('/v1/agent/service/register', {
      Name: 'mesh',
      Connect: { Native: true },
    })
    expect(connect.status).toBe(501)
    expect(connect.text).toContain('Connect')
  })

  it('gives blocking queries an index that only grows, and returns when the answer changes', async () => {
    const first = await fetch(`${daemon.url}/v1/health/service/grow`)
    const index = Number(first.headers.get('x-consul-index'))
    expect(index).toBeGreaterThan(0)
    const held = fetch(`${daemon.url}/v1/health/service/grow?index=${index}&wait=20s`)
    await consul.agent.service.register({
      name: 'grow',
      id: 'grow-1',
      port: 1,
      address: '127.0.0.1',
    })
    const res = await held
    const next = Number(res.headers.get('x-consul-index'))
    expect(next).toBeGreaterThan(index)
    expect(((await res.json()) as unknown[]).length).toBe(1)
    // The same answer keeps its index.
    const again = await fetch(`${daemon.url}/v1/health/service/grow`)
    expect(Number(again.headers.get('x-consul-index'))).toBe(next)
    await consul.agent.service.deregister('grow-1')
  })

  it('refuses malformed bodies with 400 naming the field, and changes nothing', async () => {
    const before =
      JSON.stringify(daemon.agent.services({ includeCritical: true }).size) +
      JSON.stringify(daemon.agent.localInstances())
    const random = seededRandom(11)
    const bodies: unknown[] = [
      '{',
      '[]',
      '"text"',
      '42',
      { Name: '' },
      { Port: 80 },
      { Name: 'x y' },
      { Name: 'ok', Port: 'eighty' },
      { Name: 'ok', Port: 70_000 },
      { Name: 'ok', Tags: 'edge' },
      { Name: 'ok', Tags: [1] },
      { Name: 'ok', Meta: { k: 1 } },
      { Name: 'ok', Meta: { 'bad key': 'v' } },
      { Name: 'ok', Check: { HTTP: 'http://127.0.0.1:1/' } },
      { Name: 'ok', Check: { GRPC: '127.0.0.1:1', Interval: '1s' } },
      { Name: 'ok', Check: { TTL: 'soon' } },
      { Name: 'ok', Check: { TTL: '10s', Status: 'great' } },
      { Name: 'ok', Checks: { TTL: '10s' } },
      { Name: 'ok', Checks: [null] },
      { Name: 'ok', TaggedAddresses: { http: { Address: 'not a url' } }, Port: 80, Address: 'a b' },
      { Name: 'ok', Weights: { Passing: -1 } },
      { Name: 'ok', ID: 'has/slash' },
    ]
    // And random JSON values of random shapes.
    for (let i = 0; i < 200; i++) {
      const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!
      const value = () =>
        pick<unknown>([null, 1, -1, 'x', '', true, [], {}, ['a'], { a: 1 }, 1e308, '10s'])
      bodies.push({
        [pick(['Name', 'name', 'NAME', 'ID'])]: pick<unknown>(['', 'x y', 5, null, [], {}]),
        [pick(['Port', 'Tags', 'Meta', 'Check', 'Checks', 'Address', 'Weights'])]: value(),
      })
    }
    for (const body of bodies) {
      const res = await put('/v1/agent/service/register', body)
      expect(res.status, `${JSON.stringify(body)} → ${res.text}`).toBeGreaterThanOrEqual(400)
      expect(res.status).toBeLessThan(502)
      expect(res.text).not.toBe('')
    }
    const named = await put('/v1/agent/service/register', { Name: 'ok', Port: 'eighty' })
    expect(named).toEqual({ status: 400, text: expect.stringContaining('Port') })
    for (const bad of [
      '/v1/agent/check/update/service:none',
      '/v1/agent/check/pass/service:none',
    ]) {
      expect((await put(bad, { Status: 'passing' })).status).toBe(404)
    }
    expect((await put('/v1/agent/service/deregister/never', '')).status).toBe(404)
    const after =
      JSON.stringify(daemon.agent.services({ includeCritical: true }).size) +
      JSON.stringify(daemon.agent.localInstances())
    expect(after).toBe(before)
  })
})

describe('Prometheus http_sd', () => {
  it('lists one target group per endpoint with labels from name, tags, metadata and node', async () => {
    await consul.agent.service.register({
      name: 'scraped',
      id: 'scraped-1',
      port: 9100,
      address: '10.0.0.3',
      tags: ['edge'],
      meta: { 'metrics.path': '/metrics' },
    })
    const res = await fetch(`${daemon.url}/v1/prometheus/sd?service=scraped`)
    expect(res.headers.get('content-type')).toContain('application/json')
    expect(await res.json()).toEqual([
      {
        targets: ['10.0.0.3:9100'],
        labels: expect.objectContaining({
          __meta_grapevine_service: 'scraped',
          __meta_grapevine_instance_id: 'scraped-1',
          __meta_grapevine_tags: ',edge,',
          __meta_grapevine_metadata_metrics_path: '/metrics',
          // The node's name (its ALIVE carries it; the host name by default), not its peer id.
          __meta_grapevine_node: daemon.agent.nodeName ?? hostname(),
          __meta_grapevine_status: 'passing',
        }),
      },
    ])
    await consul.agent.service.deregister('scraped-1')
  })
})
