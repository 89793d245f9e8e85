import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { Logger } from 'pino'
import { formatHostPort, parseHostPort } from '../config/addresses.js'
import type { TokenExempt } from '../config/agent-config.js'
import { type DashboardInit, dashboardRoutes } from '../dashboard/dashboard-routes.js'
import { UnauthorizedError } from '../errors.js'
import type { ApiAgent } from './agent-extensions.js'
import type { ApiContext } from './api-context.js'
import { createTokenCheck, isOpenRoute } from './bearer-token.js'
import { catalogRoutes } from './catalog-routes.js'
import { createChangeFeed } from './change-feed.js'
import { toErrorBody } from './error-body.js'
import { createMetrics } from './metrics.js'
import { registrationRoutes } from './registration-routes.js'
import { statusRoutes } from './status-routes.js'
import { watchRoute } from './watch-route.js'

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
  /** The dashboard at /ui/ and its /v1/activity stream; `false` leaves both out. @default on */
  dashboard?: boolean | DashboardInit
  /** Add Node process metrics (CPU, memory, event loop) to /metrics. @default false */
  processMetrics?: boolean
  /** Interval of SSE keep-alive comments. @default 15_000 */
  keepAliveMs?: number
}

export interface HttpApi {
  /** The fastify instance, for `inject()` in tests. */
  readonly server: FastifyInstance
  /** Listens on `host:port` (port 0 picks a free one); resolves with the base URL. */
  listen(address: string): Promise<string>
  /** Ends streams and blocking queries, then closes the server. */
  close(): Promise<void>
}

/** Registrations are a few KiB at most (see LIMITS); a larger body is a mistake or an attack. */
const BODY_LIMIT = 256 * 1024

/**
 * The agent's HTTP API (JSON under /v1, SSE watch, probes, Prometheus metrics). See the route
 * table in the cli package README; errors are `{error: {code, message, field?}}`.
 */
export function createHttpApi(init: HttpApiInit): HttpApi {
  const { agent, logger } = init
  // Widened to fastify's logger type so that routes take the plain `FastifyInstance`.
  const loggerInstance: FastifyBaseLogger = logger
  const server: FastifyInstance = Fastify({
    loggerInstance,
    // Per-request lines are logged at debug by the onResponse hook below, not at info.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // Destroys keep-alive sockets and SSE streams on close instead of waiting for clients.
    forceCloseConnections: true,
  })

  let ready = false
  agent.ready.then(
    () => {
      ready = true
    },
    (err: unknown) => logger.error({ err }, 'agent never became ready'),
  )
  const closing = new AbortController()
  const feed = createChangeFeed(agent, (err) => logger.error({ err }, 'change feed failed'))
  const ctx: ApiContext = {
    agent,
    feed,
    closing: closing.signal,
    isReady: () => ready,
    keepAliveMs: init.keepAliveMs ?? 15_000,
  }

  // Accept JSON whatever the content type (curl -d sends form encoding), and treat an empty
  // body as absent so that bodiless POSTs and DELETEs work.
  server.removeAllContentTypeParsers()
  server.addContentTypeParser('*', { parseAs: 'string' }, (_request, text, done) => {
    const body = String(text)
    if (body.trim() === '') return done(null, undefined)
    try {
      done(null, JSON.parse(body))
    } catch (err) {
      const error = Object.assign(new Error((err as Error).message), { code: 'ERR_BAD_JSON' })
      done(error, undefined)
    }
  })

  if (init.token !== undefined && init.token !== '') {
    const check = createTokenCheck(init.token)
    const exempt = init.tokenExempt ?? []
    server.addHook('onRequest', async (request) => {
      if (isOpenRoute(request.url, exempt)) return
      if (!check(request.headers.authorization)) throw new UnauthorizedError()
    })
  }

  server.addHook('onResponse', async (request, reply) => {
    logger.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
      'http request',
    )
  })

  server.setErrorHandler(async (err, request, reply) => {
    const { status, body, internal } = toErrorBody(err)
    if (internal) logger.error({ err, url: request.url }, 'http handler failed')
    reply.code(status)
    if (status === 401) reply.header('www-authenticate', 'Bearer')
    return body
  })

  server.setNotFoundHandler(async (request, reply) => {
    reply.code(404)
    return {
      error: { code: 'ERR_ROUTE_NOT_FOUND', message: `no route ${request.method} ${request.url}` },
    }
  })

  server.addHook('preClose', async () => {
    closing.abort()
    feed.close()
  })

  registrationRoutes(server, ctx)
  catalogRoutes(server, ctx)
  watchRoute(server, ctx)
  statusRoutes(server, ctx, createMetrics(agent, { processMetrics: init.processMetrics }))
  if (init.dashboard !== false) {
    dashboardRoutes(server, ctx, init.dashboard === true ? {} : (init.dashboard ?? {}))
  }

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
