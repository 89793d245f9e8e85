import type { FastifyInstance } from 'fastify'
import type { ApiContext } from '../http/api-context.js'
import { openEventStream } from '../http/event-stream.js'
import type { HttpRoutes } from '../http/http-routes.js'
import { createClusterActivity } from './cluster-activity.js'
import { loadDashboardAssets } from './dashboard-assets.js'

/** Where the page lives; `/` redirects here. */
export const DASHBOARD_PATH = '/ui/'

export interface DashboardInit {
  /** See `ClusterActivityInit.pollMs`. */
  pollMs?: number
}

/**
 * The dashboard: its static page under /ui/ (open even with a token: it holds no data, and it
 * asks for the token itself) and `GET /v1/activity`, the Server-Sent Events stream it runs on
 * (token-protected like every /v1 route). The stream opens with a `snapshot` of everything
 * the page shows, then sends `event` (a registry change with its cause), `members` (the
 * member list, when it changed and at least once a second) and `conflicts`. A reconnecting
 * client gets a fresh snapshot, so it needs no replay.
 */
export function dashboardRoutes(init: DashboardInit = {}): HttpRoutes {
  // Read once, at construction: a missing file fails the daemon at start, not a page load.
  const assets = loadDashboardAssets()
  return { name: 'dashboard', register: (server, ctx) => register(server, ctx, assets, init) }
}

function register(
  server: FastifyInstance,
  ctx: ApiContext,
  assets: ReturnType<typeof loadDashboardAssets>,
  init: DashboardInit,
): void {
  const activity = createClusterActivity({
    agent: ctx.agent,
    feed: ctx.feed,
    ...(init.pollMs !== undefined && { pollMs: init.pollMs }),
  })
  server.addHook('onClose', async () => activity.close())

  server.get('/', async (_request, reply) => reply.redirect(DASHBOARD_PATH))
  server.get('/ui', async (_request, reply) => reply.redirect(DASHBOARD_PATH))
  server.get<{ Params: { '*': string } }>('/ui/*', async (request, reply) => {
    const name = request.params['*'] === '' ? 'index.html' : request.params['*']
    const asset = assets.get(name)
    if (asset === undefined) {
      reply.code(404)
      return { error: { code: 'ERR_ROUTE_NOT_FOUND', message: `no dashboard file ${name}` } }
    }
    // Revalidate each load: an upgraded agent must not run yesterday's page against its API.
    reply.header('cache-control', 'no-cache')
    reply.type(asset.contentType)
    return asset.body
  })

  server.get('/v1/activity', (_request, reply) => {
    reply.hijack()
    const cleanups: Array<() => void> = []
    const stream = openEventStream(reply.raw, {
      keepAliveMs: ctx.keepAliveMs,
      onClose: () => {
        for (const cleanup of cleanups) cleanup()
      },
    })
    const { agent } = ctx
    const services = Object.fromEntries(
      [...agent.services({ includeCritical: true })].sort(([a], [b]) => (a < b ? -1 : 1)),
    )
    const self = {
      peerId: agent.peerId,
      nodeName: ctx.nodeName,
      addresses: agent.addresses,
      ready: ctx.isReady(),
    }
    const snapshot = activity.snapshot()
    const last = snapshot.log.at(-1)?.seq ?? 0
    stream.send('snapshot', { self, services, ...snapshot }, String(last))
    const track = (cleanup: () => void) => {
      if (stream.closed) cleanup()
      else cleanups.push(cleanup)
    }
    track(
      activity.subscribe((message) => {
        if (message.type === 'event') {
          stream.send('event', message.event, String(message.event.seq))
        } else if (message.type === 'members') {
          stream.send('members', { members: message.members, changes: message.changes })
        } else {
          stream.send('conflicts', message.conflicts)
        }
      }),
    )
    track(ctx.feed.onEnd(() => stream.close()))
    const onClosing = () => stream.close()
    ctx.closing.addEventListener('abort', onClosing, { once: true })
    track(() => ctx.closing.removeEventListener('abort', onClosing))
  })
}
