import type { FastifyInstance } from 'fastify'
import type { ApiContext } from './api-context.js'
import type { Metrics } from './metrics.js'

/** Probes and metrics: /health (process up), /ready (caught up), /metrics (Prometheus). */
export function statusRoutes(server: FastifyInstance, ctx: ApiContext, metrics: Metrics): void {
  server.get('/health', async () => ({ status: 'ok' }))

  server.get('/ready', async (_request, reply) => {
    const ready = ctx.isReady()
    reply.code(ready ? 200 : 503)
    return { ready }
  })

  server.get('/metrics', async (_request, reply) => {
    reply.type(metrics.contentType)
    return metrics.render()
  })
}
