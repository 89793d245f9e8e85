import type { ServiceEvent } from '@grapevine/core'
import { AgentStoppedError, validateName } from '@grapevine/core'
import type { FastifyInstance } from 'fastify'
import type { ApiContext } from './api-context.js'
import { indexedService } from './catalog-routes.js'
import { EVENT_STREAM_HEADERS, openEventStream } from './event-stream.js'
import { parsePassing, parseServiceQuery, type QueryString } from './query-params.js'

/**
 * GET /v1/watch/:name — Server-Sent Events: one `snapshot` event with the current list, then a
 * `change` event each time the filtered list changes, carrying the new list, `events` (every
 * event of the batch that changed it, in order) and `event` (the last of them). Each event's
 * SSE id is the list's index (as in blocking queries). Events of instances the filters exclude
 * change nothing and are not sent. HEAD answers the stream's headers and ends.
 */
export function watchRoute(server: FastifyInstance, ctx: ApiContext): void {
  server.get<{ Params: { name: string }; Querystring: QueryString }>(
    '/v1/watch/:name',
    (request, reply) => {
      // Validate before hijacking, so bad input still gets a JSON 400.
      const name = validateName(request.params.name)
      const query = parseServiceQuery(request.query)
      const passingOnly = parsePassing(request.query)
      // EventSource clients reconnect with the id of the last event they got: the index of the
      // list they hold. When the list is still that one, the snapshot is left out.
      const resumeFrom = request.headers['last-event-id']
      if (request.method === 'HEAD') {
        // fastify's automatic HEAD runs this handler; a stream would never end.
        reply.headers(EVENT_STREAM_HEADERS)
        return reply.code(200).send()
      }
      // Before hijacking too: a stopped agent answers 503, which ends a client's retries.
      const first = indexedService(ctx, name, query, passingOnly)
      reply.hijack()

      const cleanups: Array<() => void> = []
      const stream = openEventStream(reply.raw, {
        keepAliveMs: ctx.keepAliveMs,
        onClose: () => {
          for (const cleanup of cleanups) cleanup()
        },
      })
      let lastIndex = first.index
      let lastIds = new Set(first.body.map((instance) => instance.id))
      if (resumeFrom !== String(first.index)) {
        stream.send('snapshot', { index: first.index, instances: first.body }, String(first.index))
      }
      // A cleanup registered after the stream closed (the agent already stopped) runs at once.
      const track = (cleanup: () => void) => {
        if (stream.closed) cleanup()
        else cleanups.push(cleanup)
      }

      // Events of one burst (a LEAVE's tombstones, a sync part) arrive one by one while the
      // view already holds all of them; they are sent together, once the burst is over.
      let batch: ServiceEvent[] = []
      const flush = () => {
        const events = batch
        batch = []
        if (stream.closed) return
        let next: ReturnType<typeof indexedService>
        try {
          next = indexedService(ctx, name, query, passingOnly)
        } catch (err) {
          // A stop's own events (its LEAVE's tombstones) end in a burst whose flush runs
          // after the agent stopped: the stream ends, as it would at the feed's end.
          if (!(err instanceof AgentStoppedError)) throw err
          stream.close()
          return
        }
        if (next.index === lastIndex) return
        const nextIds = new Set(next.body.map((instance) => instance.id))
        // Only events that changed the filtered list: the instance was in it or is now.
        const relevant = events.filter(
          (event) => lastIds.has(event.instance.id) || nextIds.has(event.instance.id),
        )
        lastIndex = next.index
        lastIds = nextIds
        stream.send(
          'change',
          { index: next.index, instances: next.body, event: relevant.at(-1), events: relevant },
          String(next.index),
        )
      }
      track(
        ctx.feed.subscribe(name, (event) => {
          if (batch.length === 0) setImmediate(flush)
          batch.push(event)
        }),
      )
      track(ctx.feed.onEnd(() => stream.close()))
      const onClosing = () => stream.close()
      ctx.closing.addEventListener('abort', onClosing, { once: true })
      track(() => ctx.closing.removeEventListener('abort', onClosing))
    },
  )
}
