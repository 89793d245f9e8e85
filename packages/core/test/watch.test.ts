import { describe, expect, it } from 'vitest'
import type { ServiceEvent } from '../src/agent-api.js'
import { WatcherClosedError } from '../src/errors.js'
import type { ServiceInstance } from '../src/instance.js'
import { isPending } from '../src/testing/wait.js'
import { createWatchHub } from '../src/watch.js'
import { instance } from './view-fixtures.js'

/** Resolves to whether `promise` settled once every queued microtask and I/O callback ran. */
const isSettled = async (promise: Promise<unknown>): Promise<boolean> => !(await isPending(promise))

/** A hub plus a fake view: `lists[name]` is what the view would answer. */
function harness() {
  const hub = createWatchHub()
  const lists = new Map<string, readonly ServiceInstance[]>()
  function add(i: ServiceInstance): void {
    lists.set(i.name, [...(lists.get(i.name) ?? []), i])
    hub.publish([{ op: 'add', instance: i, cause: 'registered' }])
  }
  function removeAll(name: string): void {
    const gone = lists.get(name) ?? []
    lists.set(name, [])
    hub.publish(gone.map((i) => ({ op: 'delete', instance: i, cause: 'deregistered' })))
  }
  const watch = (name: string) => hub.watch(name, () => lists.get(name) ?? [])
  return { hub, lists, add, removeAll, watch }
}

describe('watcher', () => {
  it('resolves the first next() at once when the list is not empty', async () => {
    const h = harness()
    const a = instance('a', 'svc', 'N')
    h.add(a)
    const w = h.watch('svc')
    await expect(w.next()).resolves.toEqual([a])
  })

  it('makes the first next() wait for a change when the list is empty', async () => {
    const h = harness()
    const w = h.watch('svc')
    const first = w.next()
    expect(await isSettled(first)).toBe(false)
    const a = instance('a', 'svc', 'N')
    h.add(a)
    await expect(first).resolves.toEqual([a])
  })

  it('resolves later calls on the next change only', async () => {
    const h = harness()
    h.add(instance('a', 'svc', 'N'))
    const w = h.watch('svc')
    await w.next()
    const second = w.next()
    h.add(instance('x', 'other', 'N'))
    expect(await isSettled(second)).toBe(false)
    h.add(instance('b', 'svc', 'N'))
    expect((await second).map((i) => i.id)).toEqual(['a', 'b'])
  })

  it('resolves at once when a change happened since the previous call returned', async () => {
    const h = harness()
    h.add(instance('a', 'svc', 'N'))
    const w = h.watch('svc')
    await w.next()
    h.add(instance('b', 'svc', 'N'))
    h.add(instance('c', 'svc', 'N'))
    expect((await w.next()).map((i) => i.id)).toEqual(['a', 'b', 'c'])
    expect(await isSettled(w.next())).toBe(false)
  })

  it('wakes on changes of its filtered list only', async () => {
    const h = harness()
    const w = h.hub.watch('svc', () =>
      (h.lists.get('svc') ?? []).filter((i) => i.tags.includes('edge')),
    )
    const first = w.next()
    h.add(instance('a', 'svc', 'N'))
    expect(await isSettled(first)).toBe(false)
    h.add(instance('b', 'svc', 'N', { tags: ['edge'] }))
    expect((await first).map((i) => i.id)).toEqual(['b'])
  })

  it('returns a fresh array the caller may mutate', async () => {
    const h = harness()
    const frozen = Object.freeze([instance('a', 'svc', 'N')])
    const w = h.hub.watch('svc', () => frozen)
    const list = await w.next()
    list.push(instance('b', 'svc', 'N'))
    expect(frozen).toHaveLength(1)
  })

  it('after stop(), pending and later calls reject with WatcherClosedError', async () => {
    const h = harness()
    const w = h.watch('svc')
    const pending = w.next()
    await w.stop()
    await expect(pending).rejects.toBeInstanceOf(WatcherClosedError)
    await expect(w.next()).rejects.toMatchObject({ code: 'ERR_WATCHER_CLOSED' })
    h.add(instance('a', 'svc', 'N')) // a stopped watcher is detached
  })

  it('closing the hub stops every watcher, and later watchers are born closed', async () => {
    const h = harness()
    const w = h.watch('svc')
    const pending = w.next()
    h.hub.close()
    await expect(pending).rejects.toBeInstanceOf(WatcherClosedError)
    await expect(h.watch('svc').next()).rejects.toBeInstanceOf(WatcherClosedError)
    expect(h.hub.closed).toBe(true)
  })
})

describe('event streams', () => {
  it('queues every event from subscription on, filtered by name', async () => {
    const h = harness()
    const all = h.hub.events()
    const svc = h.hub.events('svc')
    h.add(instance('a', 'svc', 'N'))
    h.add(instance('b', 'other', 'N'))
    h.removeAll('svc')
    const take = async (it: AsyncIterableIterator<ServiceEvent>, n: number) => {
      const out: string[] = []
      for (let i = 0; i < n; i++) {
        const { value } = await it.next()
        out.push(`${value.op}:${value.instance.id}:${value.cause}`)
      }
      return out
    }
    expect(await take(all, 3)).toEqual([
      'add:a:registered',
      'add:b:registered',
      'delete:a:deregistered',
    ])
    expect(await take(svc, 2)).toEqual(['add:a:registered', 'delete:a:deregistered'])
  })

  it('wakes a waiting consumer and ends on return()', async () => {
    const h = harness()
    const stream = h.hub.events('svc')
    const waiting = stream.next()
    expect(await isSettled(waiting)).toBe(false)
    h.add(instance('a', 'svc', 'N'))
    expect((await waiting).value.instance.id).toBe('a')
    const seen: string[] = []
    h.add(instance('b', 'svc', 'N'))
    for await (const event of stream) {
      seen.push(event.instance.id)
      break // calls return()
    }
    expect(seen).toEqual(['b'])
    h.add(instance('c', 'svc', 'N'))
    expect(await stream.next()).toEqual({ done: true, value: undefined })
  })

  it('drains queued events, then ends when the hub closes', async () => {
    const h = harness()
    const stream = h.hub.events()
    h.add(instance('a', 'svc', 'N'))
    const waiting = h.hub.events()
    const pending = waiting.next()
    h.hub.close()
    expect((await stream.next()).value.instance.id).toBe('a')
    expect((await stream.next()).done).toBe(true)
    // `waiting` subscribed after `a` was published: it only sees the end.
    expect((await pending).done).toBe(true)
    expect((await h.hub.events().next()).done).toBe(true)
  })

  it('keeps order over many events (queue compaction)', async () => {
    const h = harness()
    const stream = h.hub.events()
    const n = 5000
    for (let i = 0; i < n; i++) h.add(instance(`i${i}`, 'svc', 'N'))
    for (let i = 0; i < n; i++) expect((await stream.next()).value.instance.id).toBe(`i${i}`)
  })
})

describe('listeners', () => {
  it('are called synchronously, unsubscribe, and a throwing one does not starve others', () => {
    const h = harness()
    const seen: string[] = []
    h.hub.onEvent(() => {
      throw new Error('boom')
    })
    const off = h.hub.onEvent((e) => seen.push(e.instance.id))
    const stream = h.hub.events()
    expect(() => h.add(instance('a', 'svc', 'N'))).toThrow('boom')
    expect(seen).toEqual(['a'])
    off()
    expect(() => h.add(instance('b', 'svc', 'N'))).toThrow('boom')
    expect(seen).toEqual(['a'])
    return expect(stream.next()).resolves.toMatchObject({ value: { instance: { id: 'a' } } })
  })
})
