import type { FastifyInstance } from 'fastify'
import type { ApiContext } from './api-context.js'
import { catalogRoutes } from './catalog-routes.js'
import { createMetrics } from './metrics.js'
import { registrationRoutes } from './registration-routes.js'
import { statusRoutes } from './status-routes.js'
import { watchRoute } from './watch-route.js'

/**
 * A set of routes on the daemon's one HTTP server: the native `/v1` API, the Consul-compatible
 * routes, Prometheus service discovery, the dashboard. Each is a front end in its own right
 * but shares the port, the token check, the JSON body parser and the error format; each
 * registers its routes once, before the server starts answering.
 */
export interface HttpRoutes {
  /** Short name for logs: `native`, `consul`, `prometheus-sd`, `dashboard`. */
  readonly name: string
  register(server: FastifyInstance, ctx: ApiContext): void
}

/** The native API: register/deregister/TTL, service reads and watch, members, probes, metrics. */
export function nativeRoutes(options: { processMetrics?: boolean } = {}): HttpRoutes {
  return {
    name: 'native',
    register(server, ctx) {
      registrationRoutes(server, ctx)
      catalogRoutes(server, ctx)
      watchRoute(server, ctx)
      statusRoutes(
        server,
        ctx,
        createMetrics(ctx.agent, {
          ...options,
          node: { peerId: ctx.agent.peerId, name: ctx.nodeName },
        }),
      )
    },
  }
}
