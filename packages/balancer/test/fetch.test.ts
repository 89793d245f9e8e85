import { afterEach, describe, expect, it } from 'vitest'
import { NoInstancesError, RetryError } from '../src/errors.js'
import { createFetch, type GrapevineFetch, isRetryableFetchError } from '../src/fetch.js'
import { refusedPort, startHttpServer, type TestHttpServer } from './http-servers.js'
import { createMemoryDiscovery, instance, tally } from './support.js'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()))
})

async function servers(...names: string[]): Promise<TestHttpServer[]> {
  const list = await Promise.all(names.map((n) => startHttpServer(n)))
  cleanup.push(async () => {
    await Promise.all(list.map((s) => s.kill()))
  })
  return list
}

function track(f: GrapevineFetch): GrapevineFetch {
  cleanup.push(() => f.close())
  return f
}

async function bodies(f: GrapevineFetch, url: string, n: number): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const res = await f(url)
    out.push(await res.text())
  }
  return out
}

describe('createFetch', () => {
  it('spreads requests over the instances and keeps working when one is killed', async () => {
    const [one, two] = await servers('one', 'two')
    const discovery = createMemoryDiscovery([
      instance('one', [one!.endpoint], { name: 'web' }),
      instance('two', [two!.endpoint], { name: 'web' }),
    ])
    const f = track(createFetch({ discovery }))
    const before = tally(await bodies(f, 'http://web/whoami?x=1', 20))
    expect(before.get('one')).toBe(10)
    expect(before.get('two')).toBe(10)

    await two!.kill() // still registered: connections are refused
    const after = await bodies(f, 'http://web/whoami', 20)
    expect(after).toEqual(Array(20).fill('one'))
  })

  it('follows the registry: new instances get traffic, removed ones none', async () => {
    const [one, two] = await servers('one', 'two')
    const discovery = createMemoryDiscovery([instance('one', [one!.endpoint], { name: 'web' })])
    const f = track(createFetch({ discovery }))
    expect(await bodies(f, 'http://web/', 3)).toEqual(['one', 'one', 'one'])
    discovery.set([instance('two', [two!.endpoint], { name: 'web' })])
    // The switch happens on the next microtasks; no request is lost meanwhile.
    const seen = await bodies(f, 'http://web/', 10)
    expect(seen.at(-1)).toBe('two')
  })

  it('keeps path, query, method, headers and body', async () => {
    const echo = await startHttpServer('echo', (req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      req.on('end', () =>
        res.end(JSON.stringify({ method: req.method, url: req.url, h: req.headers['x-h'], body })),
      )
    })
    cleanup.push(() => echo.kill())
    const discovery = createMemoryDiscovery([instance('e', [echo.endpoint], { name: 'api' })])
    const f = track(createFetch({ discovery }))
    const res = await f('http://api/a/b?c=d', {
      method: 'POST',
      headers: { 'x-h': '1' },
      body: 'hi',
    })
    expect(await res.json()).toEqual({ method: 'POST', url: '/a/b?c=d', h: '1', body: 'hi' })
    const viaRequest = await f(new Request('http://api/r', { method: 'PUT', body: 'req' }))
    expect(await viaRequest.json()).toMatchObject({ method: 'PUT', url: '/r', body: 'req' })
  })

  it('passes other URLs through unchanged', async () => {
    const [direct] = await servers('direct')
    const discovery = createMemoryDiscovery([])
    const f = track(createFetch({ discovery }))
    expect(await (await f(`${direct!.endpoint}/x`)).text()).toBe('direct')
    expect(await (await f(new URL(`${direct!.endpoint}/y`))).text()).toBe('direct')
  })

  it('uses only endpoints of the URL scheme', async () => {
    const [one] = await servers('one')
    const discovery = createMemoryDiscovery([
      instance('g', ['grpc://127.0.0.1:1'], { name: 'web' }),
      instance('one', ['grpc://127.0.0.1:2', one!.endpoint], { name: 'web' }),
    ])
    const f = track(createFetch({ discovery }))
    expect(await bodies(f, 'http://web/', 4)).toEqual(['one', 'one', 'one', 'one'])
  })

  it('moves on 502/503/504 when asked, returning the last response if all fail', async () => {
    let unavailable = 0
    const busy = await startHttpServer('busy', (_req, res) => {
      unavailable++
      res.statusCode = 503
      res.end('busy')
    })
    const [ok] = await servers('ok')
    cleanup.push(() => busy.kill())
    const discovery = createMemoryDiscovery([
      instance('busy', [busy.endpoint], { name: 'web' }),
      instance('ok', [ok!.endpoint], { name: 'web' }),
    ])
    const strict = track(createFetch({ discovery }))
    const statuses = await Promise.all([strict('http://web/'), strict('http://web/')])
    expect(statuses.map((r) => r.status).sort()).toEqual([200, 503])
    await Promise.all(statuses.map((r) => r.text()))

    const retrying = track(createFetch({ discovery, retry: { retryOnStatus: [502, 503, 504] } }))
    expect(await bodies(retrying, 'http://web/', 6)).toEqual(Array(6).fill('ok'))

    discovery.set([instance('busy', [busy.endpoint], { name: 'web' })])
    await ok!.kill()
    const before = unavailable
    const last = await retrying('http://web/')
    expect(last.status).toBe(503)
    expect(await last.text()).toBe('busy')
    expect(unavailable - before).toBe(3)
  })

  it('throws a RetryError when every instance refuses, and the error itself for one attempt', async () => {
    const ports = [await refusedPort(), await refusedPort()]
    const discovery = createMemoryDiscovery(
      ports.map((p, i) => instance(`d${i}`, [`http://127.0.0.1:${p}`], { name: 'web' })),
    )
    const f = track(createFetch({ discovery, retry: { max: 3 } }))
    const err = await f('http://web/').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RetryError)
    expect((err as RetryError).errors).toHaveLength(3)

    const once = track(createFetch({ discovery, retry: false }))
    const single = await once('http://web/').catch((e: unknown) => e)
    expect(single).toBeInstanceOf(TypeError) // as plain fetch reports a refused connection
    expect(isRetryableFetchError(single, 'POST')).toBe(true)
  })

  it('fails fast with NoInstancesError when no instance has a usable endpoint', async () => {
    const discovery = createMemoryDiscovery([
      instance('g', ['grpc://127.0.0.1:1'], { name: 'web' }),
    ])
    const f = track(createFetch({ discovery }))
    await expect(f('http://web/')).rejects.toBeInstanceOf(NoInstancesError)
  })

  it('waits for a service named explicitly until the retry timeout', async () => {
    const [late] = await servers('late')
    const discovery = createMemoryDiscovery([])
    const f = track(
      createFetch({ discovery, isService: (host) => host === 'web', retry: { timeout: 100 } }),
    )
    const err = await f('http://web/').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RetryError)
    expect((err as RetryError).final.name).toBe('RetryTimeoutError')

    const pending = f('http://web/')
    discovery.set([instance('late', [late!.endpoint], { name: 'web' })])
    expect(await (await pending).text()).toBe('late')
  })
})
