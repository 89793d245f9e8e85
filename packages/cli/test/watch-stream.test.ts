import { AgentStoppedError, createLocalAgent } from '@grapevine/core'
import { describe, expect, it } from 'vitest'
import type { WatchMessage } from '../src/api-types.js'
import { createAgentClient } from '../src/client/agent-client.js'
import { startTestServer, useTestServer } from './support/api-server.js'

const server = useTestServer({ keepAliveMs: 20 })

/** Reads messages from a watch until `count` arrived; the stream is then closed. */
async function collect(
  iterator: AsyncGenerator<WatchMessage>,
  count: number,
  onMessage: (message: WatchMessage, n: number) => Promise<void> | void = () => {},
): Promise<WatchMessage[]> {
  const messages: WatchMessage[] = []
  for await (const message of iterator) {
    messages.push(message)
    await onMessage(message, messages.length)
    if (messages.length === count) break
  }
  return messages
}

describe('GET /v1/watch/:name (SSE)', () => {
  it('sends a snapshot, then a change event with the list and the ServiceEvent', async () => {
    await server.agent.register({ id: 'web-1', name: 'web' })
    const client = createAgentClient({ baseUrl: server.url })
    const controller = new AbortController()
    const messages = await collect(client.watch('web', {}, controller.signal), 3, async (_m, n) => {
      if (n === 1) await server.agent.register({ id: 'web-2', name: 'web', version: 'v2' })
      if (n === 2) await server.agent.deregister('web-1')
    })
    controller.abort()
    expect(messages.map((m) => m.type)).toEqual(['snapshot', 'change', 'change'])
    expect(messages[0]!.instances.map((i) => i.id)).toEqual(['web-1'])
    const [, added, removed] = messages
    expect(added).toMatchObject({ type: 'change', event: { op: 'add', cause: 'registered' } })
    expect(added!.instances.map((i) => i.id)).toEqual(['web-1', 'web-2'])
    expect(removed).toMatchObject({
      type: 'change',
      event: { op: 'delete', cause: 'deregistered', instance: { id: 'web-1' } },
    })
    expect(removed!.instances.map((i) => i.id)).toEqual(['web-2'])
    // The index matches the blocking query's for the same content.
    const current = await client.service('web')
    expect(removed!.index).toBe(current.index)
  })

  it('sends only changes that pass its filters', async () => {
    const client = createAgentClient({ baseUrl: server.url })
    const controller = new AbortController()
    const messages = await collect(
      client.watch('web', { tags: ['edge'] }, controller.signal),
      2,
      async (_m, n) => {
        if (n !== 1) return
        await server.agent.register({ id: 'web-1', name: 'web' })
        await server.agent.register({ id: 'db-1', name: 'db', tags: ['edge'] })
        await server.agent.register({ id: 'web-2', name: 'web', tags: ['edge'] })
      },
    )
    controller.abort()
    expect(messages[0]).toMatchObject({ type: 'snapshot', instances: [] })
    expect(messages[1]).toMatchObject({ type: 'change', event: { instance: { id: 'web-2' } } })
  })

  it('speaks plain SSE: event, id and data lines, keep-alive comments', async () => {
    await server.agent.register({ id: 'web-1', name: 'web' })
    const res = await fetch(`${server.url}/v1/watch/web`)
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const reader = res.body!.getReader()
    let text = ''
    while (!text.includes(': keep-alive')) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    await reader.cancel()
    expect(text).toMatch(
      /^retry: 1000\n\nevent: snapshot\nid: \d+\ndata: \{"index":\d+,"instances":\[\{"id":"web-1"/,
    )
  })

  it('answers bad names with a JSON 400 before streaming', async () => {
    const res = await fetch(`${server.url}/v1/watch/bad%20name`)
    expect(res.status).toBe(400)
    expect((await res.json()).error.field).toBe('name')
  })

  // Issue 12, friction point 7: `watch` reconnects (with a kept SSE client, eventsource).
  it('reconnects when the stream drops, and ends with the error once the agent refuses', async () => {
    const client = createAgentClient({ baseUrl: server.url })
    const controller = new AbortController()
    const events: string[] = []
    const messages: WatchMessage[] = []
    const error = await (async () => {
      const stream = client.watch('web', {}, controller.signal, {
        onReconnecting: () => events.push('reconnecting'),
      })
      try {
        for await (const message of stream) {
          messages.push(message)
          await server.agent.stop()
        }
      } catch (err) {
        return err as { code?: string; status?: number }
      }
      return undefined
    })()
    expect(messages).toHaveLength(1)
    // The stream dropped when the agent stopped; the retry got 503 and ended the watch.
    expect(events).toEqual(['reconnecting'])
    expect(error).toMatchObject({ status: 503, apiCode: 'ERR_AGENT_STOPPED' })
  })

  // Found with 30 daemons: SIGTERM on an agent with a watch open crashed it. The networked
  // agent refuses reads as soon as its shutdown starts, and its event stream ends only once
  // the LEAVE is out, so the deletes it published were flushed to the stream in between.
  it('ends the stream, without crashing, when the agent stops between an event and its flush', async () => {
    const local = createLocalAgent({ nodeId: 'node-b' })
    let stopping = false
    const agent = new Proxy(local, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver)
        if (!stopping || typeof value !== 'function' || key === 'events' || key === 'stop') {
          return value
        }
        return () => {
          throw new AgentStoppedError()
        }
      },
    })
    const own = await startTestServer({ agent, keepAliveMs: 20 })
    try {
      await agent.register({ id: 'web-1', name: 'web' })
      const client = createAgentClient({ baseUrl: own.url })
      const messages: WatchMessage[] = []
      const error = await (async () => {
        try {
          for await (const message of client.watch('web', {}, new AbortController().signal)) {
            messages.push(message)
            if (messages.length > 1) continue
            await agent.deregister('web-1')
            stopping = true
            setTimeout(() => void local.stop(), 50)
          }
        } catch (err) {
          return err as { status?: number }
        }
        return undefined
      })()
      expect(messages.map((m) => m.type)).toEqual(['snapshot'])
      expect(error).toMatchObject({ status: 503 })
    } finally {
      await own.api.close()
      await local.stop()
    }
  })

  // Issue 12, friction point 7: the server honours Last-Event-ID.
  it('sends no snapshot to a client resuming with the index it holds (Last-Event-ID)', async () => {
    await server.agent.register({ id: 'web-1', name: 'web' })
    const first = await fetch(`${server.url}/v1/services/web`)
    const index = first.headers.get('x-grapevine-index')!
    const controller = new AbortController()
    const res = await fetch(`${server.url}/v1/watch/web`, {
      headers: { 'last-event-id': index },
      signal: controller.signal,
    })
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    await server.agent.register({ id: 'web-2', name: 'web' })
    while (!text.includes('event: change')) {
      const { value } = await reader.read()
      text += decoder.decode(value)
    }
    controller.abort()
    expect(text).not.toContain('event: snapshot')
    expect(text).toContain('"id":"web-2"')
  })
})
