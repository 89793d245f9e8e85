import type { ServerResponse } from 'node:http'

/** A Server-Sent Events response. */
export interface EventStream {
  send(event: string, data: unknown, id?: string): void
  close(): void
  readonly closed: boolean
}

/** The headers of every SSE response (and of the HEAD answer on a stream's route). */
export const EVENT_STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  // nginx buffers responses by default, which would hold events back.
  'x-accel-buffering': 'no',
} as const

/**
 * Starts an SSE response on a raw Node response. A comment line every `keepAliveMs` keeps
 * proxies and idle-timeouts from cutting a quiet stream; `onClose` runs once, whoever closes.
 */
export function openEventStream(
  response: ServerResponse,
  { keepAliveMs, onClose }: { keepAliveMs: number; onClose: () => void },
): EventStream {
  response.writeHead(200, EVENT_STREAM_HEADERS)
  // Tells EventSource clients how long to wait before reconnecting.
  response.write('retry: 1000\n\n')
  let closed = false
  const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), keepAliveMs)
  keepAlive.unref()
  const close = () => {
    if (closed) return
    closed = true
    clearInterval(keepAlive)
    response.end()
    onClose()
  }
  response.on('close', close)
  return {
    send(event, data, id) {
      if (closed) return
      const idLine = id === undefined ? '' : `id: ${id}\n`
      // JSON.stringify never emits a raw newline, so one data line carries the whole payload.
      response.write(`event: ${event}\n${idLine}data: ${JSON.stringify(data)}\n\n`)
    },
    close,
    get closed() {
      return closed
    },
  }
}
