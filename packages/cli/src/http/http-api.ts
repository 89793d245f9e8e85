import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { formatHostPort, parseHostPort } from '../config/addresses.js'
import type { TokenExempt } from '../config/agent-config.js'
import { createDaemonContext } from '../daemon/daemon-context.js'
import { dashboardRoutes } from '../dashboard/dashboard-routes.js'
import type { ApiAgent } from './agent-extensions.js'
import { createHttpApp } from './http-app.js'
import { type HttpRoutes, nativeRoutes } from './http-routes.js'

export interface HttpApiInit {
  agent: ApiAgent
  logger: Logger
  /**
   * When set, every route but /health, the dashboard's static files and `tokenExempt`
   * requires `Authorization: Bearer <token>`.
   */
  token?: string
  /** Routes left open despite the token: `ready` (/ready), `metrics` (/metrics). */
  tokenExempt?: readonly TokenExempt[]
  /** Add Node process metrics (CPU, memory, event loop) to /metrics. @default false */
  processMetrics?: boolean
  /** Interval of SSE keep-alive comments. @default 15_000 */
  keepAliveMs?: number
  /** Cluster name, shown to Consul clients as the datacenter. @default 'default' */
  cluster?: string
  /** Route sets beside the native API (Consul, Prometheus SD). @default none */
  extraRoutes?: readonly HttpRoutes[]
  /** The dashboard at /ui/ and its /v1/activity stream; `false` leaves both out. @default on */
  dashboard?: boolean
}

export interface HttpApi {
  /** The fastify instance, for `inject()` in tests. */
  readonly server: FastifyInstance
  /** Listens on `host:port` (port 0 picks a free one); resolves with the base URL. */
  listen(address: string): Promise<string>
  /** Ends streams and blocking queries, then closes the server. */
  close(): Promise<void>
}

/**
 * The agent's HTTP API on its own (JSON under /v1, SSE watch, probes, Prometheus metrics), for
 * embedding an agent's API in a program. It owns its change feed; the daemon instead shares
 * one context between all its front ends (see `daemon/front-end.ts`). See the route table in
 * the cli package README; errors are `{error: {code, message, field?}}`.
 */
export function createHttpApi(init: HttpApiInit): HttpApi {
  const owned = createDaemonContext({
    agent: init.agent,
    logger: init.logger,
    cluster: init.cluster ?? 'default',
    ...(init.agent.nodeName !== undefined && { nodeName: init.agent.nodeName }),
  })
  const server = createHttpApp({
    ctx: owned.ctx,
    routes: [
      nativeRoutes({ processMetrics: init.processMetrics }),
      ...(init.dashboard === false ? [] : [dashboardRoutes()]),
      ...(init.extraRoutes ?? []),
    ],
    ...(init.token !== undefined && { token: init.token }),
    ...(init.tokenExempt !== undefined && { tokenExempt: init.tokenExempt }),
    ...(init.keepAliveMs !== undefined && { keepAliveMs: init.keepAliveMs }),
  })
  server.addHook('preClose', async () => owned.close())
  return {
    server,
    async listen(address) {
      const hostPort = parseHostPort(address)
      if (hostPort === undefined) throw new Error(`expected host:port, got "${address}"`)
      await server.listen({ host: hostPort.host, port: hostPort.port })
      const bound = server.server.address()
      const port = typeof bound === 'object' && bound !== null ? bound.port : hostPort.port
      return `http://${formatHostPort({ host: hostPort.host, port })}`
    },
    close: () => server.close(),
  }
}
