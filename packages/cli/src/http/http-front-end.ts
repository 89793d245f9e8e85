import { createServer, type Server } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { formatHostPort, parseHostPort } from '../config/addresses.js'
import type { DaemonContext, FrontEnd } from '../daemon/front-end.js'
import { ListenError } from '../daemon/listen-error.js'
import { createHttpApp } from './http-app.js'
import type { HttpRoutes } from './http-routes.js'

export interface HttpFrontEndInit {
  /** `host:port`; port 0 picks a free one. */
  address: string
  routes: readonly HttpRoutes[]
  token?: string
  /** See `HttpAppInit.tokenExempt`. */
  tokenExempt?: readonly string[]
  keepAliveMs?: number
}

/** The daemon's HTTP server as a front end; `url` is set once `listen` resolved. */
export interface HttpFrontEnd extends FrontEnd {
  readonly url: string | undefined
  /** The fastify instance once started (for `inject()` in tests). */
  readonly app: FastifyInstance | undefined
}

/**
 * One HTTP port carrying every HTTP route set. `listen` binds a bare Node server that answers
 * 503 until `start` hands it to fastify with the shared context.
 */
export function createHttpFrontEnd(init: HttpFrontEndInit): HttpFrontEnd {
  let server: Server | undefined
  let app: FastifyInstance | undefined
  let url: string | undefined
  let stopped: Promise<void> | undefined
  const starting = (_request: unknown, response: import('node:http').ServerResponse) => {
    response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' })
    response.end(
      JSON.stringify({ error: { code: 'ERR_STARTING', message: 'the agent is starting' } }),
    )
  }

  return {
    name: 'http',
    get url() {
      return url
    },
    get app() {
      return app
    },
    async listen() {
      const hostPort = parseHostPort(init.address)
      if (hostPort === undefined) {
        throw new ListenError('HTTP API', init.address, 'expected host:port', '--http-addr')
      }
      const bound = createServer(starting)
      await new Promise<void>((resolve, reject) => {
        bound.once('error', (err: NodeJS.ErrnoException) =>
          reject(ListenError.from('HTTP API', init.address, err, '--http-addr')),
        )
        bound.listen({ host: hostPort.host, port: hostPort.port }, () => resolve())
      })
      server = bound
      const address = bound.address()
      const port = typeof address === 'object' && address !== null ? address.port : hostPort.port
      url = `http://${formatHostPort({ host: hostPort.host, port })}`
      return url
    },
    async start(ctx: DaemonContext) {
      if (server === undefined) throw new Error('http front end: start before listen')
      app = createHttpApp({
        ctx: { ...ctx, logger: ctx.logger.child({ component: 'http' }) },
        routes: init.routes,
        server,
        ...(init.token !== undefined && { token: init.token }),
        ...(init.tokenExempt !== undefined && { tokenExempt: init.tokenExempt }),
        ...(init.keepAliveMs !== undefined && { keepAliveMs: init.keepAliveMs }),
      })
      await app.ready()
      server.removeListener('request', starting)
    },
    stop() {
      stopped ??= (async () => {
        await app?.close()
        if (server === undefined) return
        const closed = new Promise<void>((resolve) => server!.close(() => resolve()))
        // fastify leaves a server it did not listen on open; SSE and long polls end here.
        server.closeAllConnections()
        await closed
      })()
      return stopped
    },
  }
}
