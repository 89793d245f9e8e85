import type { ServiceEvent, ServiceInstance } from '@grapevine/core'
import { EventSource } from 'eventsource'
import type { WatchMessage } from '../api-types.js'
import { AgentUnreachableError, StreamClosedError } from '../errors.js'
import type { FetchLike, FetchLikeResponse } from './node-http-fetch.js'

/** What a watch tells its caller besides messages: the connection's ups and downs. */
export interface WatchHooks {
  /** The stream dropped (the agent stopped or restarted); the client is reconnecting. */
  onReconnecting?(): void
  /** A new stream is open again after `onReconnecting`. */
  onReconnected?(): void
}

export interface WatchStreamInit {
  url: string
  baseUrl: string
  /** The agent client's fetch (plain `fetch`, or node:http for quick-starting commands). */
  fetch: FetchLike
  /** Sent on every (re)connection: the token. */
  headers: Readonly<Record<string, string>>
  signal: AbortSignal
  hooks?: WatchHooks
  /** Turns an error answer into the error to throw (its body names the field). */
  toError(response: FetchLikeResponse): Promise<Error>
}

/**
 * The watch stream through the `eventsource` library, which keeps reconnecting after the
 * agent goes away (after the server's `retry:` delay) and sends `Last-Event-ID`, the index of
 * the list it holds, so an agent whose list did not change sends no snapshot again. Only the
 * first connection fails fast (no agent there), and an error answer (401, 400, 503) ends it.
 */
export async function* watchStream(init: WatchStreamInit): AsyncGenerator<WatchMessage> {
  const queue: WatchMessage[] = []
  let failure: Error | undefined
  let opened = false
  let reconnecting = false
  let done = false
  let wake: () => void = () => {}
  const finish = (err?: Error) => {
    failure ??= err
    done = true
    source.close()
    wake()
  }
  const source = new EventSource(init.url, {
    fetch: async (input, request) => {
      try {
        const url = String(input)
        const response = await init.fetch(url, {
          method: 'GET',
          headers: { ...request.headers, ...init.headers },
          ...(request.signal instanceof AbortSignal && { signal: request.signal }),
        })
        // The library gives up on an error answer without reading it; its body names why.
        if (!response.ok) failure ??= await init.toError(response)
        return {
          status: response.status,
          headers: response.headers,
          body: response.ok ? response.body : null,
          url,
          redirected: false,
        }
      } catch (err) {
        if (!opened && !init.signal.aborted) finish(new AgentUnreachableError(init.baseUrl))
        throw err
      }
    },
  })
  source.addEventListener('open', () => {
    opened = true
    if (reconnecting) init.hooks?.onReconnected?.()
    reconnecting = false
  })
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) finish(new StreamClosedError(init.baseUrl))
    else if (opened && !reconnecting) {
      reconnecting = true
      init.hooks?.onReconnecting?.()
    }
  })
  for (const type of ['snapshot', 'change'] as const) {
    source.addEventListener(type, (message) => {
      queue.push(toWatchMessage(type, message.data))
      wake()
    })
  }
  const onAbort = () => finish()
  init.signal.addEventListener('abort', onAbort, { once: true })
  try {
    for (;;) {
      const next = queue.shift()
      if (next !== undefined) {
        yield next
        continue
      }
      if (done) break
      await new Promise<void>((resolve) => {
        wake = resolve
      })
    }
    if (failure !== undefined && !init.signal.aborted) throw failure
  } finally {
    init.signal.removeEventListener('abort', onAbort)
    source.close()
  }
}

function toWatchMessage(event: 'snapshot' | 'change', data: string): WatchMessage {
  const payload = JSON.parse(data) as {
    index: number
    instances: ServiceInstance[]
    event?: ServiceEvent
    events?: ServiceEvent[]
  }
  if (event === 'change' && payload.event !== undefined) {
    return {
      type: 'change',
      index: payload.index,
      instances: payload.instances,
      event: payload.event,
      events: payload.events ?? [payload.event],
    }
  }
  return { type: 'snapshot', index: payload.index, instances: payload.instances }
}
