import { seededRandom } from '@grapevine/core/testing'
import { describe, expect, it } from 'vitest'
import { createBalancer } from '../src/balancer.js'
import { NoInstancesError, RetryError, RetryTimeoutError } from '../src/errors.js'
import { createRandomPicker } from '../src/random.js'
import { retry } from '../src/retry.js'
import { createRoundRobinPicker } from '../src/round-robin.js'
import { refusedPort, startHttpServer } from './http-servers.js'
import { createMemoryDiscovery, instance } from './support.js'

function fixture(ids: string[]) {
  const discovery = createMemoryDiscovery(
    ids.map((id, i) => instance(id, [`http://127.0.0.1:${1000 + i}`])),
  )
  const balancer = createBalancer({
    discovery,
    service: 'svc',
    picker: createRoundRobinPicker({ random: () => 0 }),
  })
  return { discovery, balancer }
}

describe('retry', () => {
  it('picks afresh per attempt and returns the first success', async () => {
    const { balancer } = fixture(['a', 'b', 'c'])
    const tried: string[] = []
    const value = await retry(balancer, { max: 3 })(async (selected, { attempt }) => {
      tried.push(selected.instance.id)
      if (attempt < 3) throw new Error(`${selected.instance.id} failed`)
      return selected.instance.id
    })
    // Each attempt goes to an instance that has not failed this call yet.
    expect(new Set(tried).size).toBe(3)
    expect(value).toBe(tried[2])
    await balancer.close()
  })

  it("throws a RetryError with every attempt's error when all fail", async () => {
    const { balancer } = fixture(['a', 'b'])
    const err = await retry(balancer, { max: 4 })(async (selected, { attempt }) => {
      throw new Error(`attempt ${attempt} on ${selected.instance.id}`)
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RetryError)
    const retryError = err as RetryError
    expect(retryError.code).toBe('ERR_RETRY')
    // Failed instances are avoided while others remain, then tried again.
    expect(retryError.errors.map((e) => e.message)).toEqual([
      'attempt 1 on a',
      'attempt 2 on b',
      'attempt 3 on a',
      'attempt 4 on b',
    ])
    expect(retryError.final.message).toBe('attempt 4 on b')
    expect(retryError.cause).toBe(retryError.final)
    expect(retryError.message).toContain('4 attempts failed, final: attempt 4 on b')
    expect(retryError.message).toContain('1) attempt 1 on a')
    await balancer.close()
  })

  it('stops when shouldRetry says so', async () => {
    const { balancer } = fixture(['a', 'b'])
    let calls = 0
    const err = await retry(balancer, { max: 5, shouldRetry: (e) => e.message !== 'fatal' })(
      async () => {
        calls++
        throw new Error(calls === 2 ? 'fatal' : 'transient')
      },
    ).catch((e: unknown) => e)
    expect(calls).toBe(2)
    expect((err as RetryError).errors.map((e) => e.message)).toEqual(['transient', 'fatal'])
    await balancer.close()
  })

  it('gives up at the overall timeout, aborting the attempt under way', async () => {
    const { balancer } = fixture(['a'])
    let seen: AbortSignal | undefined
    const err = await retry(balancer, { max: 3, timeout: 50 })(
      (_selected, { signal }) =>
        new Promise<never>((_resolve, reject) => {
          seen = signal
          signal.addEventListener('abort', () => reject(new Error('aborted late')))
        }),
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RetryError)
    expect((err as RetryError).errors).toHaveLength(1)
    expect((err as RetryError).final).toBeInstanceOf(RetryTimeoutError)
    expect(seen?.aborted).toBe(true)
    await balancer.close()
  })

  it("rejects with the caller's abort reason", async () => {
    const { balancer } = fixture(['a'])
    const controller = new AbortController()
    const call = retry(balancer)(
      (_s, { signal }) =>
        new Promise<never>((_r, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        ),
      { signal: controller.signal },
    )
    controller.abort(new Error('caller gave up'))
    await expect(call).rejects.toThrow('caller gave up')
    await balancer.close()
  })

  it('counts a failed pick as an attempt', async () => {
    const discovery = createMemoryDiscovery([])
    const balancer = createBalancer({ discovery, service: 'svc', readyTimeoutMs: 10 })
    const err = await retry(balancer, { max: 2 })(async () => 'never').catch((e: unknown) => e)
    expect((err as RetryError).errors.map((e) => e.constructor)).toEqual([
      NoInstancesError,
      NoInstancesError,
    ])
    await balancer.close()
  })

  it('moves to another instance when one refuses connections', async () => {
    const live = await startHttpServer('live')
    const dead = await refusedPort()
    const discovery = createMemoryDiscovery([
      instance('dead', [`http://127.0.0.1:${dead}`]),
      instance('live', [live.endpoint]),
    ])
    const balancer = createBalancer({
      discovery,
      service: 'svc',
      picker: createRandomPicker({ random: seededRandom(7) }),
    })
    const call = retry(balancer, { max: 2, timeout: 5_000 })
    let refusedFirst = 0
    for (let i = 0; i < 20; i++) {
      let attempts = 0
      const body = await call(async (selected, { signal }) => {
        attempts++
        const res = await fetch(`${selected.endpoint.url}/`, { signal })
        return res.text()
      })
      expect(body).toBe('live')
      if (attempts === 2) refusedFirst++
    }
    // The seeded picker sends about half of the first attempts to the dead instance.
    expect(refusedFirst).toBeGreaterThan(3)
    expect(live.hits).toBe(20)

    // Both gone: the RetryError carries each attempt's connection error (the live server's
    // pooled keep-alive socket may fail as "other side closed" before a refused reconnect).
    await live.kill()
    const err = await call(async (selected) => fetch(selected.endpoint.url)).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(RetryError)
    const causes = (err as RetryError).errors.map((e) => (e.cause as { code?: string }).code)
    expect(causes).toHaveLength(2)
    expect(causes).toContain('ECONNREFUSED')
    for (const code of causes) expect(['ECONNREFUSED', 'UND_ERR_SOCKET']).toContain(code)
    await balancer.close()
  })
})
