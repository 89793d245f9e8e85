import { waitFor } from '@grapevine/core/testing'
import { type ServiceError, status } from '@grpc/grpc-js'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseGrpcTarget, registerGrapevineResolver } from '../src/grpc.js'
import {
  grpcClient,
  startGrpcServer,
  type TestGrpcClient,
  type TestGrpcServer,
} from './grpc-servers.js'
import { createMemoryDiscovery, instance, tally } from './support.js'

const discovery = createMemoryDiscovery([])
const cleanup: (() => void)[] = []
afterEach(() => {
  for (const f of cleanup.splice(0)) f()
  discovery.set([])
})

beforeAll(() => {
  registerGrapevineResolver(discovery)
})

async function servers(...names: string[]): Promise<TestGrpcServer[]> {
  const list = await Promise.all(names.map((n) => startGrpcServer(n)))
  cleanup.push(() => {
    for (const s of list) s.kill()
  })
  return list
}

function client(target: string): TestGrpcClient {
  const c = grpcClient(target)
  cleanup.push(() => c.close())
  return c
}

function register(...list: TestGrpcServer[]): void {
  discovery.set(list.map((s) => instance(s.name, [s.endpoint], { name: 'who' })))
}

async function calls(c: TestGrpcClient, n: number): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(await c.ami())
  return out
}

describe('grapevine resolver for grpc-js', () => {
  it('parses targets with optional query parameters', () => {
    expect(parseGrpcTarget('who')).toEqual({ service: 'who', query: {} })
    expect(parseGrpcTarget('/who?version=v2&tag=a&tag=b&metadata.zone=eu')).toEqual({
      service: 'who',
      query: { version: 'v2', tags: ['a', 'b'], metadata: { zone: 'eu' } },
    })
    expect(() => parseGrpcTarget('bad name')).toThrow(/target service name/)
    expect(() => parseGrpcTarget('who?colour=red')).toThrow(/colour/)
  })

  it('spreads calls over two servers and keeps working when one is killed', async () => {
    const [a, b] = await servers('a', 'b')
    register(a!, b!)
    const c = client('grapevine:///who')
    // Round-robin connects to both, then alternates; wait until both have answered.
    const seen = new Set<string>()
    await waitFor(
      'both servers to answer',
      async () => {
        seen.add(await c.ami())
        return seen.size === 2
      },
      { timeoutMs: 5_000 },
    )
    const spread = tally(await calls(c, 20))
    expect(spread.get('a')).toBeGreaterThanOrEqual(8)
    expect(spread.get('b')).toBeGreaterThanOrEqual(8)

    b!.kill() // still registered: the channel sees the connection drop and is refused after
    // A call already routed to b when it died may fail once; after that all go to a.
    await waitFor(
      'a call to succeed',
      () =>
        c.ami().then(
          (who) => who === 'a',
          () => false,
        ),
      { timeoutMs: 5_000 },
    )
    expect(await calls(c, 20)).toEqual(Array(20).fill('a'))
  })

  it('follows the registry: new instances get calls, an empty list fails fast', async () => {
    const [a, b] = await servers('a', 'b')
    register(a!)
    const c = client('grapevine:///who')
    expect(await calls(c, 3)).toEqual(['a', 'a', 'a'])
    register(a!, b!)
    await waitFor('b to get calls', async () => (await c.ami()) === 'b', { timeoutMs: 5_000 })
    register(b!)
    await waitFor('a to be left out', async () => (await calls(c, 4)).every((who) => who === 'b'), {
      timeoutMs: 5_000,
    })

    discovery.set([])
    const err = await waitFor<ServiceError | false>(
      'calls to fail',
      () =>
        c.ami(2_000).then(
          () => false,
          (e: ServiceError) => e,
        ),
      { timeoutMs: 5_000 },
    )
    expect(err.code).toBe(status.UNAVAILABLE)
    expect(err.details).toContain('no instance of "who"')

    register(a!)
    await waitFor(
      'a to come back',
      () =>
        c.ami().then(
          (who) => who === 'a',
          () => false,
        ),
      { timeoutMs: 5_000 },
    )
  })

  it('uses only gRPC endpoints matching the query in the target', async () => {
    const [v1, v2] = await servers('v1', 'v2')
    discovery.set([
      instance('h', ['http://127.0.0.1:1'], { name: 'who', version: 'v2' }),
      instance('v1', [v1!.endpoint], { name: 'who', version: 'v1' }),
      instance('v2', ['http://127.0.0.1:2', v2!.endpoint], { name: 'who', version: 'v2' }),
    ])
    const c = client('grapevine:///who?version=v2')
    expect(await calls(c, 5)).toEqual(Array(5).fill('v2'))
  })

  it("defers to the channel's own service config", async () => {
    const [a, b] = await servers('a', 'b')
    register(a!, b!)
    const c = grpcClient('grapevine:///who', {
      'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ pick_first: {} }] }),
    })
    cleanup.push(() => c.close())
    // pick_first sticks to one server.
    expect(new Set(await calls(c, 10)).size).toBe(1)
  })
})

describe('grapevine resolver with a stopped agent', () => {
  it('fails calls with UNAVAILABLE saying why', async () => {
    const stopped = {
      getService: () => [],
      watch: () => {
        throw new Error('agent is stopped')
      },
    }
    registerGrapevineResolver(stopped, { scheme: 'grapevine-stopped' })
    const c = client('grapevine-stopped:///who')
    const err = await c.ami(2_000).then(
      () => undefined,
      (e: ServiceError) => e,
    )
    expect(err?.code).toBe(status.UNAVAILABLE)
    expect(err?.details).toContain('cannot watch "who": agent is stopped')
  })
})
