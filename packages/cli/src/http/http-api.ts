import { LIMITS, ValidationError } from '@grapevine/core'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify'
import type { Logger } from 'pino'
import { formatHostPort, parseHostPort } from '../config/addresses.js'
import { UnauthorizedError } from '../errors.js'
import type { ApiAgent } from './agent-extensions.js'
import type { ApiContext } from './api-context.js'
import { createTokenCheck } from './bearer-token.js'
import { checkJsonDepth } from './body-depth.js'
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
  /** When set, every route but /health requires `Authorization: Bearer <token>`. */
  token?: string
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

/** Throws on bytes that are not UTF-8 (a BOM is skipped, as JSON allows). */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Every id and name validation allows must be addressable in a path (fastify's default of 100
 * answered 414 to ids of 101–128 characters). fastify measures the raw, percent-encoded
 * segment, and every character of an id may take 3 (`:` → `%3A`).
 */
export const MAX_PARAM_LENGTH = 3 * Math.max(LIMITS.idLength, LIMITS.nameLength)

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
    maxParamLength: MAX_PARAM_LENGTH,
    // Destroys keep-alive sockets and SSE streams on close instead of waiting for clients.
    forceCloseConnections: true,
    // The router refuses some URLs before any handler runs; answer them in our error shape too.
    frameworkErrors: (err, _request, reply) => {
      const { status, body } = toErrorBody(err)
      // Typed for the route generics that do not exist yet at this point; a plain reply.
      void (reply as unknown as FastifyReply).code(status).send(body)
    },
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
  // body as absent so that bodiless POSTs and DELETEs work. Bytes that are not UTF-8 are
  // refused rather than replaced with U+FFFD: the stored value would not be what was sent.
  server.removeAllContentTypeParsers()
  server.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, bytes, done) => {
    let body: string
    try {
      body = strictUtf8.decode(bytes as Buffer)
    } catch {
      return done(new ValidationError('body', 'must be UTF-8 text'), undefined)
    }
    if (body.trim() === '') return done(null, undefined)
    try {
      checkJsonDepth(body)
    } catch (err) {
      return done(err as Error, undefined)
    }
    try {
      done(null, JSON.parse(body))
    } catch (err) {
      const error = Object.assign(new Error((err as Error).message), { code: 'ERR_BAD_JSON' })
      done(error, undefined)
    }
  })

  if (init.token !== undefined && init.token !== '') {
    const check = createTokenCheck(init.token)
    server.addHook('onRequest', async (request) => {
      // /health stays open so that process supervisors need no secret.
      if (request.url === '/health' || request.url.startsWith('/health?')) return
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
