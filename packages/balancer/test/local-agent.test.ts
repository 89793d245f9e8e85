import { createLocalAgent } from '@grapevine/core'
import { waitFor } from '@grapevine/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { createBalancer } from '../src/balancer.js'
import { createFetch } from '../src/fetch.js'
import { registerGrapevineResolver } from '../src/grpc.js'
import { createP2CPicker } from '../src/p2c.js'
import { grpcClient, startGrpcServer } from './grpc-servers.js'
import { startHttpServer } from './http-servers.js'
import { tally } from './support.js'

// The same scenarios as the other files, against the real local agent instead of the
// in-memory Discovery: its watchers are what applications will use.
const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

describe('with the local agent', () => {
  it('a balancer follows registrations, health and deregistrations', async () => {
    const agent = createLocalAgent()
    cleanup.push(() => agent.stop())
    const a = await agent.register({ name: 'web', endpoints: ['http://127.0.0.1:1001'] })
    const balancer = createBalancer({ discovery: agent, service: 'web', picker: createP2CPicker() })
    cleanup.push(() => balancer.close())
    await balancer.ready
    expect(balancer.instances().map((i) => i.id)).toEqual([a])
    const b = await agent.register({ name: 'web', endpoints: ['http://127.0.0.1:1002'] })
    await waitFor('b to appear', () => balancer.instances().length === 2, { timeoutMs: 5_000 })
    await agent.deregister(a)
    await waitFor(
      'a to leave',
      () =>
        balancer
          .instances()
          .map((i) => i.id)
          .join() === b,
      { timeoutMs: 5_000 },
    )
  })

  it('fetch spreads over two HTTP servers and survives one being killed', async () => {
    const agent = createLocalAgent()
    cleanup.push(() => agent.stop())
    const servers = await Promise.all([startHttpServer('one'), startHttpServer('two')])
    cleanup.push(() => Promise.all(servers.map((s) => s.kill())))
    for (const s of servers) await agent.register({ name: 'web', endpoints: [s.endpoint] })
    const f = createFetch({ discovery: agent })
    cleanup.push(() => f.close())
    const get = async () => (await f('http://web/')).text()
    const first = tally(await Promise.all(Array.from({ length: 10 }, get)))
    expect(first.get('one')).toBe(5)
    expect(first.get('two')).toBe(5)
    await servers[1]!.kill()
    for (let i = 0; i < 10; i++) expect(await get()).toBe('one')
  })

  it('a grpc-js channel spreads over two servers and survives one being killed', async () => {
    const agent = createLocalAgent()
    cleanup.push(() => agent.stop())
    registerGrapevineResolver(agent, { scheme: 'grapevine-local' })
    const servers = await Promise.all([startGrpcServer('a'), startGrpcServer('b')])
    cleanup.push(() => {
      for (const s of servers) s.kill()
    })
    for (const s of servers) await agent.register({ name: 'who', endpoints: [s.endpoint] })
    const client = grpcClient('grapevine-local:///who')
    cleanup.push(() => client.close())
    const seen = new Set<string>()
    await waitFor('both to answer', async () => seen.add(await client.ami()).size === 2, {
      timeoutMs: 5_000,
    })
    servers[1]!.kill()
    await waitFor(
      'a alone',
      () =>
        client.ami().then(
          (who) => who === 'a',
          () => false,
        ),
      { timeoutMs: 5_000 },
    )
    for (let i = 0; i < 10; i++) expect(await client.ami()).toBe('a')
  })
})
