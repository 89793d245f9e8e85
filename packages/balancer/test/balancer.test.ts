import { waitFor } from '@grapevine/core/testing'
import { describe, expect, it } from 'vitest'
import { createBalancer } from '../src/balancer.js'
import { BalancerClosedError, NoInstancesError } from '../src/errors.js'
import { versionFilter } from '../src/filters.js'
import type { CallReport, Picker } from '../src/picker.js'
import { createRoundRobinPicker } from '../src/round-robin.js'
import { createMemoryDiscovery, instance } from './support.js'

const a = instance('a', ['http://127.0.0.1:1001', 'grpc://127.0.0.1:2001'])
const b = instance('b', ['grpc://127.0.0.1:2002'], { version: 'v2' })
const c = instance('c', ['http://127.0.0.1:1003'])

describe('balancer', () => {
  it('is ready with the current list and follows the registry live', async () => {
    const discovery = createMemoryDiscovery([a, b])
    const balancer = createBalancer({ discovery, service: 'svc' })
    await balancer.ready
    expect(balancer.instances().map((i) => i.id)).toEqual(['a', 'b'])

    discovery.set([a, b, c])
    await waitFor('c to appear', () => balancer.instances().length === 3, { timeoutMs: 5_000 })
    discovery.set([c])
    await waitFor('a and b to leave', () => balancer.instances().length === 1, { timeoutMs: 5_000 })
    expect(balancer.pick().instance.id).toBe('c')

    discovery.set([])
    await waitFor('the list to empty', () => balancer.instances().length === 0, {
      timeoutMs: 5_000,
    })
    expect(() => balancer.pick()).toThrow(NoInstancesError)
    await balancer.close()
  })

  it('applies the query, filters and schemes', async () => {
    const discovery = createMemoryDiscovery([
      a,
      b,
      c,
      instance('d', ['http://127.0.0.1:1004'], { status: 'critical' }),
    ])
    const http = createBalancer({ discovery, service: 'svc', schemes: ['http'] })
    await http.ready
    expect(http.candidates().map((x) => x.endpoint.url)).toEqual([
      'http://127.0.0.1:1001',
      'http://127.0.0.1:1003',
    ])
    const v1grpc = createBalancer({
      discovery,
      service: 'svc',
      query: { version: 'v1' },
      schemes: ['grpc'],
    })
    await v1grpc.ready
    expect(v1grpc.instances().map((i) => i.id)).toEqual(['a'])
    const v2 = createBalancer({ discovery, service: 'svc', filters: [versionFilter('v2')] })
    await v2.ready
    expect(v2.pick().endpoint.url).toBe('grpc://127.0.0.1:2002')
    await Promise.all([http.close(), v1grpc.close(), v2.close()])
  })

  it('becomes ready when a first instance appears, and rejects after the ready timeout', async () => {
    const discovery = createMemoryDiscovery([])
    const late = createBalancer({ discovery, service: 'svc' })
    expect(() => late.pick()).toThrow(NoInstancesError)
    discovery.set([a])
    await late.ready
    expect(late.pick().instance.id).toBe('a')

    const never = createBalancer({ discovery, service: 'other', readyTimeoutMs: 20 })
    await expect(never.ready).rejects.toBeInstanceOf(NoInstancesError)
    await expect(never.ready).rejects.toMatchObject({ code: 'ERR_NO_INSTANCES', service: 'other' })
    await Promise.all([late.close(), never.close()])
  })

  it('close stops the watch and fails later picks and a pending ready', async () => {
    const discovery = createMemoryDiscovery([a])
    const balancer = createBalancer({ discovery, service: 'svc' })
    const pending = createBalancer({ discovery, service: 'none' })
    await balancer.ready
    expect(discovery.openWatchers).toBe(2)
    await Promise.all([balancer.close(), pending.close()])
    expect(discovery.openWatchers).toBe(0)
    expect(() => balancer.pick()).toThrow(BalancerClosedError)
    await expect(pending.ready).rejects.toBeInstanceOf(BalancerClosedError)
  })

  it('skips avoided candidates unless nothing else is left', async () => {
    const discovery = createMemoryDiscovery([a, b, c])
    const balancer = createBalancer({ discovery, service: 'svc', picker: createRoundRobinPicker() })
    await balancer.ready
    const avoid = new Set(
      balancer
        .candidates()
        .slice(0, 2)
        .map((x) => x.key),
    )
    for (let i = 0; i < 6; i++) expect(balancer.pick({ avoid }).instance.id).toBe('c')
    const all = new Set(balancer.candidates().map((x) => x.key))
    expect(() => balancer.pick({ avoid: all })).not.toThrow()
    await balancer.close()
  })

  it('reports each call once to the picker, measuring latency when not given', async () => {
    const reports: CallReport[] = []
    const picker: Picker = {
      pick: (list) => ({ candidate: list[0]!, done: (report) => reports.push(report) }),
    }
    let t = 100
    const discovery = createMemoryDiscovery([a])
    const balancer = createBalancer({ discovery, service: 'svc', picker, now: () => t })
    await balancer.ready
    const first = balancer.pick()
    t = 142
    first.done()
    first.done({ error: new Error('late') })
    const error = new Error('boom')
    balancer.pick().done({ error, latencyMs: 7 })
    expect(reports).toEqual([
      { error: undefined, latencyMs: 42 },
      { error, latencyMs: 7 },
    ])
    await balancer.close()
  })

  it('tells pickers about list changes', async () => {
    const updates: string[][] = []
    const picker: Picker = {
      pick: (list) => ({ candidate: list[0]! }),
      update: (list) => updates.push(list.map((x) => x.instance.id)),
    }
    const discovery = createMemoryDiscovery([a])
    const balancer = createBalancer({ discovery, service: 'svc', picker })
    await balancer.ready
    discovery.set([a, c])
    await waitFor('the second update', () => updates.length === 2, { timeoutMs: 5_000 })
    expect(updates).toEqual([['a'], ['a', 'c']])
    await balancer.close()
  })
})
