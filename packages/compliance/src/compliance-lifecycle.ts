import type { Agent, ServiceEvent } from '@grapevine/core'
import { uniqueName, within } from '@grapevine/core/testing'
import { describe, expect, it } from 'vitest'
import type { ComplianceContext } from './agent-compliance.js'

/** Every call of the interface, each expected to fail with AgentStoppedError. */
function callsAfterStop(agent: Agent): [string, () => unknown][] {
  const name = uniqueName('stopped')
  return [
    ['register', () => agent.register({ name })],
    ['deregister', () => agent.deregister('x')],
    ['getService', () => agent.getService(name)],
    ['service', () => agent.service(name)],
    ['services', () => agent.services()],
    ['localInstances', () => agent.localInstances()],
    ['watch', () => agent.watch(name)],
    ['events', () => agent.events(name)],
    ['members', () => agent.members()],
    ['conflicts', () => agent.conflicts()],
    ['stats', () => agent.stats()],
    ['leave', () => agent.leave()],
  ]
}

async function expectStopped(agent: Agent): Promise<void> {
  for (const [call, run] of callsAfterStop(agent)) {
    let error: unknown
    try {
      await run()
    } catch (err) {
      error = err
    }
    expect({ call, error }).toMatchObject({ call, error: { code: 'ERR_AGENT_STOPPED' } })
  }
}

export function lifecycleTests(context: () => ComplianceContext): void {
  describe('leave and stop', () => {
    it('leave() removes this node’s instances, tells watchers, then stops', async () => {
      const { agent, timeoutMs } = context()
      const name = uniqueName('leave')
      const a = await agent.register({ name })
      const b = await agent.register({ name, status: 'critical' })
      const stream = agent.events(name)
      const watcher = agent.watch(name)
      await within(watcher.next(), 'the first list', timeoutMs)
      const pending = watcher.next()
      await agent.leave()

      const deleted: string[] = []
      for (;;) {
        const result = await within(stream.next(), 'the deletes, then the end', timeoutMs)
        if (result.done === true) break
        const event: ServiceEvent = result.value
        expect(event.op).toBe('delete')
        expect(['deregistered', 'left']).toContain(event.cause)
        deleted.push(event.instance.id)
      }
      expect(deleted.sort()).toEqual([a, b].sort())
      // The watcher either saw the list empty out or was closed by the stop; never hangs.
      await within(
        pending.then(
          (list) => expect(list).toEqual([]),
          (err: unknown) => expect(err).toMatchObject({ code: 'ERR_WATCHER_CLOSED' }),
        ),
        'the watcher to settle',
        timeoutMs,
      )
      await expect(watcher.next()).rejects.toMatchObject({ code: 'ERR_WATCHER_CLOSED' })
      await expectStopped(agent)
    })

    it('stop() ends streams and watchers; every later call throws AgentStoppedError', async () => {
      const { agent, timeoutMs } = context()
      const name = uniqueName('stop')
      await agent.register({ name })
      const stream = agent.events(name)
      const watcher = agent.watch(name)
      await within(watcher.next(), 'the first list', timeoutMs)
      const pending = watcher.next()
      await agent.stop()
      await expect(within(pending, 'the rejection', timeoutMs)).rejects.toMatchObject({
        code: 'ERR_WATCHER_CLOSED',
      })
      expect(await within(stream.next(), 'the end', timeoutMs)).toMatchObject({ done: true })
      await expectStopped(agent)
      await expect(agent.stop()).resolves.toBeUndefined()
    })
  })
}
