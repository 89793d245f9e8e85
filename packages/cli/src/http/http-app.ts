import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http'
import { LIMITS, ValidationError } from '@grapevine/core'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify'
import type { DaemonContext } from '../daemon/front-end.js'
import { UnauthorizedError } from '../errors.js'
import type { ApiContext } from './api-context.js'
import { createTokenCheck, isOpenRoute } from './bearer-token.js'
import { checkJsonDepth } from './body-depth.js'
import { toErrorBody } from './error-body.js'
import type { HttpRoutes } from './http-routes.js'

export interface HttpAppInit {
  ctx: DaemonContext
  routes: readonly HttpRoutes[]
  /**
   * When set, every route but /health, the dashboard's static files and `tokenExempt`
   * requires the token (see `createTokenCheck`, `isOpenRoute`).
   */
  token?: string
  /** Routes left open despite the token: `ready` (/ready), `metrics` (/metrics). */
  tokenExempt?: readonly string[]
  /** Interval of SSE keep-alive comments. @default 15_000 */
  keepAliveMs?: number
  /**
   * An HTTP server bound beforehand (the daemon binds before the agent starts). Without it,
   * fastify creates its own and the caller listens with `app.listen()`.
   */
  server?: Server
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
 * The daemon's HTTP server: one fastify instance carrying every route set, with the shared
 * pieces (token check, JSON parsing, error format, request log) applied to all of them.
 * Errors are `{error: {code, message, field?}}` unless a route set answers in its own format.
 */
export function createHttpApp(init: HttpAppInit): FastifyInstance {
  const { logger } = init.ctx
  // Widened to fastify's logger type so that routes take the plain `FastifyInstance`.
  const loggerInstance: FastifyBaseLogger = logger
  const prebound = init.server
  const server: FastifyInstance = Fastify({
    loggerInstance,
    // Per-request lines are logged at debug by the onResponse hook below, not at info.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // Router options live under routerOptions since fastify 5.x (FSTDEP022 otherwise).
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Destroys keep-alive sockets and SSE streams on close instead of waiting for clients.
    forceCloseConnections: true,
    // The router refuses some URLs before any handler runs; answer them in our error shape too.
    frameworkErrors: (err, _request, reply) => {
      const { status, body } = toErrorBody(err)
      // Typed for route generics that do not exist yet at this point; a plain reply.
      void (reply as unknown as FastifyReply).code(status).send(body)
    },
    ...(prebound && {
      serverFactory: (handler: RequestListener<typeof IncomingMessage, typeof ServerResponse>) => {
        prebound.on('request', handler)
        return prebound
      },
    }),
  })

  // Closing this server ends its long polls and streams even while the daemon runs on.
  const closing = new AbortController()
  const ctx: ApiContext = {
    ...init.ctx,
    closing: AbortSignal.any([init.ctx.closing, closing.signal]),
    keepAliveMs: init.keepAliveMs ?? 15_000,
  }

  // Accept JSON whatever the content type (curl -d sends form encoding), and treat an empty
  // body as absent so that bodiless POSTs and DELETEs work. Bytes that are not UTF-8 are
  // refused rather than replaced with U+FFFD: the stored value would not be what was sent.
  // Nesting is bounded before parsing (see body-depth.ts).
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
    const exempt = init.tokenExempt ?? []
    server.addHook('onRequest', async (request) => {
      if (isOpenRoute(request.url, exempt)) return
      if (!check(request.headers)) throw new UnauthorizedError()
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
  })

  for (const routes of init.routes) {
    server.register(async (scope) => routes.register(scope, ctx))
  }
  return server
}
