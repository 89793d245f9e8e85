import { validateName } from '@grapevine/core'
import type { FastifyInstance } from 'fastify'
import type { ApiContext } from './api-context.js'
import { indexedService } from './catalog-routes.js'
import { openEventStream } from './event-stream.js'
import { parseServiceQuery, type QueryString } from './query-params.js'

/**
 * GET /v1/watch/:name — Server-Sent Events: one `snapshot` event with the current list, then a
 * `change` event each time the filtered list changes, carrying the new list and the event
 * that changed it. Each event's SSE id is the list's index (as in blocking queries). Events of
 * instances the filters exclude change nothing and are not sent.
 */
export function watchRoute(server: FastifyInstance, ctx: ApiContext): void {
  server.get<{ Params: { name: string }; Querystring: QueryString }>(
    '/v1/watch/:name',
    (request, reply) => {
      // Validate before hijacking, so bad input still gets a JSON 400.
      const name = validateName(request.params.name)
      const query = parseServiceQuery(request.query)
      reply.hijack()

      const cleanups: Array<() => void> = []
      const stream = openEventStream(reply.raw, {
        keepAliveMs: ctx.keepAliveMs,
        onClose: () => {
          for (const cleanup of cleanups) cleanup()
        },
      })
      const first = indexedService(ctx, name, query)
      let lastIndex = first.index
      stream.send('snapshot', { index: first.index, instances: first.body }, String(first.index))
      // A cleanup registered after the stream closed (the agent already stopped) runs at once.
      const track = (cleanup: () => void) => {
        if (stream.closed) cleanup()
        else cleanups.push(cleanup)
      }
      track(
        ctx.feed.subscribe(name, (event) => {
          const next = indexedService(ctx, name, query)
          if (next.index === lastIndex) return
          lastIndex = next.index
          stream.send(
            'change',
            { index: next.index, instances: next.body, event },
            String(next.index),
          )
        }),
      )
      track(ctx.feed.onEnd(() => stream.close()))
      const onClosing = () => stream.close()
      ctx.closing.addEventListener('abort', onClosing, { once: true })
      track(() => ctx.closing.removeEventListener('abort', onClosing))
    },
  )
}
