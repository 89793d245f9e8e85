import { type ServiceInstance, type ServiceQuery, validateName } from '@grapevine/core'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { ApiContext } from './api-context.js'
import { blockingQuery, type Indexed } from './blocking-query.js'
import { contentIndex, sortInstances } from './content-index.js'
import {
  parseBlocking,
  parsePassing,
  parseServiceQuery,
  parseServicesQuery,
  type QueryString,
} from './query-params.js'

export const INDEX_HEADER = 'x-grapevine-index'

/** The instances of one service matching `query`, canonically ordered, with their index. */
export function indexedService(
  ctx: ApiContext,
  name: string,
  query: ServiceQuery,
  passingOnly = false,
): Indexed<ServiceInstance[]> {
  const found = ctx.agent.service(name, query)
  const instances = sortInstances(passingOnly ? found.filter(isPassing) : found)
  return { index: contentIndex([[name, instances]]), body: instances }
}

function isPassing(instance: ServiceInstance): boolean {
  return instance.status === 'passing'
}

/** An AbortSignal that fires when the client goes away or the server closes. */
function requestSignal(ctx: ApiContext, reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => controller.abort())
  return AbortSignal.any([controller.signal, ctx.closing])
}

/** Reads: services (blocking), members, conflicts, and who this agent is. */
export function catalogRoutes(server: FastifyInstance, ctx: ApiContext): void {
  const { agent } = ctx

  server.get<{ Querystring: QueryString }>('/v1/services', async (request, reply) => {
    const query = parseServicesQuery(request.query)
    const passingOnly = parsePassing(request.query)
    const { index, waitMs } = parseBlocking(request.query)
    const compute = (): Indexed<Record<string, ServiceInstance[]>> => {
      const groups = [...agent.services(query)]
        .map(([name, list]) => [name, passingOnly ? list.filter(isPassing) : list] as const)
        .filter(([, list]) => list.length > 0)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, list]) => [name, sortInstances(list)] as const)
      return { index: contentIndex(groups), body: Object.fromEntries(groups) }
    }
    const result = await blockingQuery({
      feed: ctx.feed,
      name: undefined,
      compute,
      index,
      waitMs,
      signal: () => requestSignal(ctx, reply),
    })
    reply.header(INDEX_HEADER, String(result.index))
    return result.body
  })

  server.get<{ Params: { name: string }; Querystring: QueryString }>(
    '/v1/services/:name',
    async (request, reply) => {
      const name = validateName(request.params.name)
      const query = parseServiceQuery(request.query)
      const passingOnly = parsePassing(request.query)
      const { index, waitMs } = parseBlocking(request.query)
      const result = await blockingQuery({
        feed: ctx.feed,
        name,
        compute: () => indexedService(ctx, name, query, passingOnly),
        index,
        waitMs,
        signal: () => requestSignal(ctx, reply),
      })
      reply.header(INDEX_HEADER, String(result.index))
      return result.body
    },
  )

  server.get('/v1/members', async () =>
    [...agent.members()].sort((a, b) =>
      a.self !== b.self ? (a.self ? -1 : 1) : a.id < b.id ? -1 : 1,
    ),
  )

  server.get('/v1/conflicts', async () =>
    [...agent.conflicts()].sort((a, b) => (a.id < b.id ? -1 : 1)),
  )

  server.get('/v1/self', async () => ({
    peerId: agent.peerId,
    nodeName: ctx.nodeName,
    cluster: ctx.cluster,
    addresses: agent.addresses,
    ready: ctx.isReady(),
    stats: agent.stats(),
  }))
}
