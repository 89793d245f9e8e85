import type { ServiceEvent } from '@grapevine/core'
import { isPending, uniqueName, within } from '@grapevine/core/testing'
import { describe, expect, it } from 'vitest'
import type { ComplianceContext } from './agent-compliance.js'

const ids = (list: readonly { id: string }[]) => list.map((instance) => instance.id).sort()

/** `op:cause` of the next `n` events of a stream, each within the deadline. */
async function take(
  stream: AsyncIterableIterator<ServiceEvent>,
  n: number,
  timeoutMs: number,
): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const result = await within(stream.next(), `event ${i + 1} of ${n}`, timeoutMs)
    if (result.done === true) throw new Error(`stream ended after ${i} events`)
    out.push(`${result.value.op}:${result.value.cause}:${result.value.instance.id}`)
  }
  return out
}

export function watchTests(context: () => ComplianceContext): void {
  describe('watch', () => {
    it('resolves the first next() at once when the service has instances', async () => {
      const { agent, timeoutMs } = context()
      const name = uniqueName('watch-now')
      const id = await agent.register({ name })
      const watcher = agent.watch(name)
      const first = await within(watcher.next(), 'the first list', timeoutMs)
      expect(ids(first)).toEqual([id])
      await watcher.stop()
    })

    it('makes the first next() wait for a change when the service is empty', async () => {
      const { agent, timeoutMs } = context()
      const name = uniqueName('watch-empty')
      const watcher = agent.watch(name)
      const first = watcher.next()
      expect(await isPending(first)).toBe(true)
      const id = await agent.register({ name })
      expect(ids(await within(first, 'the first change', timeoutMs))).toEqual([id])
      await watcher.stop()
    })

    it('resolves each later next() on the next change of that service only', async () => {
      const { agent, timeoutMs } = context()
      const name = uniqueName('watch-later')
      const a = await agent.register({ name })
      const watcher = agent.watch(name)
      await within(watcher.next(), 'the first list', timeoutMs)
      const second = watcher.next()
      await agent.register({ name: uniqueName('watch-other') })
      expect(await isPending(second)).toBe(true)
      const b = await agent.register({ name })
      expect(ids(await within(second, 'the added instance', timeoutMs))).toEqual(
        ids([{ id: a }, { id: b }]),
      )
      const third = watcher.next()
      await agent.deregister(a)
      expect(ids(await within(third, 'the removal', timeoutMs))).toEqual([b])
      await watcher.stop()
    })

    it('resolves at once when a change happened since the previous next() returned', async () => {
      const { agent, timeoutMs } = context()
      const name = uniqueName('watch-since')
      await agent.register({ name })
      const watcher = agent.watch(name)
      await within(watcher.next(), 'the first list', timeoutMs)
      const b = await agent.register({ name, version: 'v2' })
      // The change may reach the watcher a little later on a networked agent: wait for it.
      const list = await within(
        (async () => {
          for (;;) {
            const current = await watcher.next()
            if (current.some((i) => i.id === b)) return current
          }
        })(),
        'the change made before next()',
        timeoutMs,
      )
      expect(list).toHaveLength(2)
      await watcher.stop()
    })

    it('applies the query to lists and wake-ups', async () => {
      const { agent, timeoutMs } = context()
      const name = uniqueName('watch-query')
      const watcher = agent.watch(name, { tags: ['edge'] })
      const first = watcher.next()
      await agent.register({ name, tags: ['core'] })
      expect(await isPending(first)).toBe(true)
      const critical = await agent.register({ name, tags: ['edge'], status: 'critical' })
      expect(await isPending(first)).toBe(true)
      const edge = await agent.register({ name, tags: ['edge', 'eu'] })
      expect(ids(await within(first, 'the matching instance', timeoutMs))).toEqual([edge])
      await watcher.stop()
      const all = agent.watch(name, { tags: ['edge'], includeCritical: true })
      expect(ids(await within(all.next(), 'the list', timeoutMs))).toEqual(
        ids([{ id: critical }, { id: edge }]),
      )
      await all.stop()
    })

    it('after stop(), pending and later next() reject with WatcherClosedError', async () => {
      const { agent, timeoutMs } = context()
      const watcher = agent.watch(uniqueName('watch-stop'))
      const pending = watcher.next()
      await watcher.stop()
      await expect(within(pending, 'the rejection', timeoutMs)).rejects.toMatchObject({
        code: 'ERR_WATCHER_CLOSED',
      })
      await expect(watcher.next()).rejects.toMatchObject({ code: 'ERR_WATCHER_CLOSED' })
    })
  })

  describe('events', () => {
    it('reports registered, health and deregistered causes in order', async () => {
      const { agent, timeoutMs } = context()
      const name = uniqueName('events')
      const stream = agent.events(name)
      const id = await agent.register({ name, version: 'v1' })
      await agent.register({ id, name, version: 'v2' })
      await agent.register({ id, name, version: 'v2', status: 'critical' })
      await agent.deregister(id)
      expect(await take(stream, 4, timeoutMs)).toEqual([
        `add:registered:${id}`,
        `update:registered:${id}`,
        `update:health:${id}`,
        `delete:deregistered:${id}`,
      ])
      await stream.return?.()
    })

    it('carries the instance: the new version, or the last one seen for a delete', async () => {
      const { agent, timeoutMs } = context()
      const name = uniqueName('events-body')
      const stream = agent.events(name)
      const id = await agent.register({ name, version: 'v1', tags: ['a'] })
      await agent.deregister(id)
      const added = await within(stream.next(), 'the add', timeoutMs)
      const deleted = await within(stream.next(), 'the delete', timeoutMs)
      expect(added.value).toMatchObject({
        op: 'add',
        instance: { id, name, version: 'v1', node: agent.peerId },
      })
      expect(deleted.value).toMatchObject({
        op: 'delete',
        instance: { id, version: 'v1', tags: ['a'] },
      })
      await stream.return?.()
    })

    it('filters by name, or reports every service without one', async () => {
      const { agent, timeoutMs } = context()
      const name = uniqueName('events-one')
      const other = uniqueName('events-two')
      const one = agent.events(name)
      const every = agent.events()
      const a = await agent.register({ name: other })
      const b = await agent.register({ name })
      expect(await take(one, 1, timeoutMs)).toEqual([`add:registered:${b}`])
      const seen: string[] = []
      while (seen.length < 2) {
        const [event] = await take(every, 1, timeoutMs)
        if (event === `add:registered:${a}` || event === `add:registered:${b}`) seen.push(event)
      }
      expect(seen).toEqual([`add:registered:${a}`, `add:registered:${b}`])
      await one.return?.()
      await every.return?.()
    })

    it('ends when the consumer breaks out of the loop', async () => {
      const { agent, timeoutMs } = context()
      const name = uniqueName('events-break')
      const stream = agent.events(name)
      await agent.register({ name })
      for await (const event of stream) {
        expect(event.op).toBe('add')
        break
      }
      await agent.register({ name })
      expect(await within(stream.next(), 'the end', timeoutMs)).toMatchObject({ done: true })
    })
  })
}
