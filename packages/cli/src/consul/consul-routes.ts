import { isIP } from 'node:net'
import {
  type HealthStatus,
  NotFoundError,
  type ServiceInstance,
  ValidationError,
  validateId,
  validateName,
} from '@grapevine/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { NotSupportedError } from '../errors.js'
import type { TtlReport } from '../http/agent-extensions.js'
import type { ApiContext } from '../http/api-context.js'
import { blockingQuery, type Indexed } from '../http/blocking-query.js'
import { contentIndex, sortInstances } from '../http/content-index.js'
import { toErrorBody } from '../http/error-body.js'
import type { HttpRoutes } from '../http/http-routes.js'
import { createIndexClock, hashJson } from '../http/index-clock.js'
import type { QueryString } from '../http/query-params.js'
import { asString, field, isObject } from './consul-body.js'
import { consulBlocking, consulFlag, consulTagsFilter, refuseUnsupported } from './consul-query.js'
import { decodeServiceDefinition } from './consul-registration.js'
import { unsupportedRoutes } from './consul-unsupported.js'
import {
  agentService,
  catalogService,
  consulNode,
  consulTags,
  createNodeDirectory,
  healthChecks,
  serfMember,
  serviceEntry,
} from './consul-views.js'

/** The Consul API version whose agent routes these follow, for clients that read it. */
export const CONSUL_API_VERSION = '1.17.0'

type Request = FastifyRequest<{ Params: Record<string, string>; Querystring: QueryString }>

/**
 * The Consul-compatible HTTP routes (see docs/consul-compatibility.md for the mapping). Each
 * one calls the same agent methods the native API does: a service registered through Consul's
 * route is a Grapevine instance like any other, seen by every agent and by DNS.
 *
 * Errors are plain text, as Consul answers them (its clients show the body as the message).
 */
export function consulRoutes(): HttpRoutes {
  return { name: 'consul', register }
}

function register(server: FastifyInstance, ctx: ApiContext): void {
  const { agent } = ctx
  const clock = createIndexClock(Date.now())

  server.setErrorHandler(async (err, request, reply) => {
    const { status, body, internal } = toErrorBody(err)
    if (internal) ctx.logger.error({ err, url: request.url }, 'consul route failed')
    reply.code(status).type('text/plain; charset=utf-8')
    return body.error.message
  })
  server.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-consul-knownleader', 'true')
    reply.header('x-consul-lastcontact', '0')
    return payload
  })

  const directory = () => createNodeDirectory(agent.members(), ctx.cluster)

  /** This agent's IP, for services registered without an Address (Consul uses the node's). */
  const agentAddress = (): string => {
    const ips = agent.addresses
      .map((address) => /^\/ip[46]\/([^/]+)/.exec(address)?.[1])
      .filter(
        (ip): ip is string => ip !== undefined && isIP(ip) !== 0 && ip !== '0.0.0.0' && ip !== '::',
      )
    return ips.find((ip) => !ip.startsWith('127.') && ip !== '::1') ?? ips[0] ?? '127.0.0.1'
  }

  /**
   * A blocking read: answers at once, or when the answer moves past the client's index.
   * `compute` returns the body and a hash of what it depends on; for instance lists that is
   * the native content index of the instances (cheaper than hashing the Consul JSON) plus
   * the node names the answer shows.
   */
  async function blocking<T>(
    request: Request,
    reply: FastifyReply,
    key: string,
    name: string | undefined,
    compute: () => { body: T; hash: string },
  ): Promise<T> {
    refuseUnsupported(request.query, ctx.cluster)
    const { index, waitMs } = consulBlocking(request.query)
    const indexed = (): Indexed<T> => {
      const { body, hash } = compute()
      return { index: clock.indexFor(key, hash), body }
    }
    const result = await blockingQuery({
      feed: ctx.feed,
      name,
      compute: indexed,
      index,
      waitMs,
      signal: () => {
        const controller = new AbortController()
        reply.raw.once('close', () => controller.abort())
        return AbortSignal.any([controller.signal, ctx.closing])
      },
    })
    reply.header('x-consul-index', String(result.index))
    return result.body
  }

  const withHash = <T>(body: T) => ({ body, hash: hashJson(body) })

  /**
   * Instances and what their Consul JSON depends on: their content (the native content
   * index) and the names and addresses of their nodes.
   */
  const hashedInstances = (name: string, instances: ServiceInstance[]) => {
    const nodes = directory()
    const nodeKeys = [...new Set(instances.map((i) => i.node))].map(
      (peerId) => `${nodes.name(peerId)}@${nodes.address(peerId)}`,
    )
    return { body: instances, hash: `${contentIndex([[name, instances]])}|${nodeKeys.join(',')}` }
  }

  /** Instances of a service as Consul filters them: `?tag=` (all given), `?passing`. */
  const instancesOf = (name: string, query: QueryString, passingOnly: boolean) => {
    const tags = consulTagsFilter(query)
    return sortInstances(
      agent
        .service(name, { includeCritical: true, ...(tags.length > 0 && { tags }) })
        .filter((instance) => !passingOnly || instance.status === 'passing'),
    )
  }

  // ---- agent: this node's own services and checks ----

  server.put('/v1/agent/service/register', async (request, reply) => {
    const registration = decodeServiceDefinition(request.body, agentAddress())
    await agent.register(registration)
    reply.type('text/plain')
    return ''
  })

  server.put<{ Params: { id: string } }>(
    '/v1/agent/service/deregister/:id',
    async (request, reply) => {
      const id = validateId(request.params.id, 'service_id')
      try {
        await agent.deregister(id)
      } catch (err) {
        if ((err as { code?: unknown }).code === NotFoundError.code) {
          throw Object.assign(new NotFoundError(id), { message: `Unknown service ID "${id}"` })
        }
        throw err
      }
      reply.type('text/plain')
      return ''
    },
  )

  /** The local instance that has a check with this id. */
  const findCheck = (checkId: string): { instance: ServiceInstance; checkId: string } => {
    validateId(checkId, 'check_id')
    for (const instance of agent.localInstances()) {
      if (agent.checks?.(instance.id)?.some((check) => check.id === checkId)) {
        return { instance, checkId }
      }
    }
    throw Object.assign(new NotFoundError(checkId), {
      code: 'ERR_CHECK_NOT_FOUND',
      message: `Unknown check ID "${checkId}": no TTL check with this id on this agent`,
    })
  }

  const report = async (checkId: string, ttlReport: TtlReport, note: string | undefined) => {
    if (agent.ttl === undefined) throw new NotSupportedError('TTL checks')
    const found = findCheck(checkId)
    await agent.ttl(found.instance.id, found.checkId, ttlReport, note)
  }

  for (const [route, ttlReport] of [
    ['pass', 'pass'],
    ['warn', 'warn'],
    ['fail', 'fail'],
  ] as const) {
    server.put<{ Params: { id: string }; Querystring: QueryString }>(
      `/v1/agent/check/${route}/:id`,
      async (request, reply) => {
        const note = request.query.note
        await report(request.params.id, ttlReport, typeof note === 'string' ? note : undefined)
        reply.type('text/plain')
        return ''
      },
    )
  }

  // The form the Go API's UpdateTTL uses: {"Status": "passing", "Output": "..."}.
  server.put<{ Params: { id: string } }>('/v1/agent/check/update/:id', async (request, reply) => {
    const body = request.body ?? {}
    if (!isObject(body)) throw new ValidationError('body', 'must be {"Status": …, "Output": …}')
    const status = asString(field(body, 'Status'), 'Status')
    const output = asString(field(body, 'Output'), 'Output')
    const byStatus: Record<string, TtlReport> = {
      passing: 'pass',
      pass: 'pass',
      warning: 'warn',
      warn: 'warn',
      critical: 'fail',
      fail: 'fail',
    }
    const ttlReport = byStatus[status ?? '']
    if (ttlReport === undefined) {
      throw new ValidationError('Status', 'must be passing, warning or critical')
    }
    await report(request.params.id, ttlReport, output)
    reply.type('text/plain')
    return ''
  })

  server.get('/v1/agent/services', async () => {
    const nodes = directory()
    return Object.fromEntries(
      sortInstances(agent.localInstances()).map((instance) => [
        instance.id,
        agentService(instance, nodes),
      ]),
    )
  })

  server.get<{ Params: { id: string } }>('/v1/agent/service/:id', async (request) => {
    const id = validateId(request.params.id, 'service_id')
    const instance = agent.localInstances().find((candidate) => candidate.id === id)
    if (instance === undefined) {
      throw Object.assign(new NotFoundError(id), { message: `unknown service ID: ${id}` })
    }
    return agentService(instance, directory())
  })

  server.get('/v1/agent/checks', async () => {
    const out: Record<string, unknown> = {}
    for (const instance of sortInstances(agent.localInstances())) {
      for (const check of agent.checks?.(instance.id) ?? []) {
        out[check.id] = {
          Node: ctx.nodeName,
          CheckID: check.id,
          Name: check.name ?? check.id,
          Status: check.status,
          Notes: '',
          Output: check.output ?? '',
          ServiceID: instance.id,
          ServiceName: instance.name,
          ServiceTags: consulTags(instance),
          Type: check.kind ?? '',
        }
      }
    }
    return out
  })

  server.get('/v1/agent/self', async () => {
    const members = agent.members()
    const self = members.find((member) => member.self)
    const member =
      self === undefined
        ? { Name: ctx.nodeName, Addr: agentAddress(), Port: 0, Tags: {}, Status: 1 }
        : { ...serfMember(self, ctx.cluster), Name: ctx.nodeName }
    return {
      Config: {
        Datacenter: ctx.cluster,
        PrimaryDatacenter: ctx.cluster,
        NodeName: ctx.nodeName,
        NodeID: agent.peerId,
        Server: false,
        Revision: 'grapevine',
        Version: CONSUL_API_VERSION,
      },
      Member: member,
      Meta: {},
      Coord: null,
      Stats: {
        grapevine: { ready: String(ctx.isReady()), instances: String(agent.stats().instances) },
      },
    }
  })

  server.get('/v1/agent/members', async () =>
    agent.members().map((member) => ({
      ...serfMember(member, ctx.cluster),
      ...(member.self && { Name: ctx.nodeName }),
    })),
  )

  // ---- catalog and health: the whole cluster, from this agent's replica ----

  server.get<{ Querystring: QueryString }>('/v1/catalog/services', async (request, reply) =>
    blocking(request as Request, reply, 'catalog-services', undefined, () => {
      const out: Record<string, string[]> = {}
      const services = [...agent.services({ includeCritical: true })].sort(([a], [b]) =>
        a < b ? -1 : 1,
      )
      for (const [name, instances] of services) {
        out[name] = [...new Set(instances.flatMap(consulTags))].sort()
      }
      return withHash(out)
    }),
  )

  server.get<{ Params: { name: string }; Querystring: QueryString }>(
    '/v1/catalog/service/:name',
    async (request, reply) => {
      const name = validateName(request.params.name, 'service')
      const key = `catalog:${name}:${consulTagsFilter(request.query).join(',')}`
      const instances = await blocking(request as Request, reply, key, name, () =>
        hashedInstances(name, instancesOf(name, request.query, false)),
      )
      const index = Number(reply.getHeader('x-consul-index'))
      const nodes = directory()
      return instances.map((instance) => catalogService(instance, nodes, index))
    },
  )

  server.get('/v1/catalog/nodes', async () => {
    const nodes = directory()
    return agent
      .members()
      .filter((member) => member.state === 'alive' || member.state === 'suspect')
      .map((member) => consulNode(member.id, nodes))
  })

  server.get('/v1/catalog/datacenters', async () => [ctx.cluster])

  server.get<{ Params: { name: string }; Querystring: QueryString }>(
    '/v1/health/service/:name',
    async (request, reply) => {
      const name = validateName(request.params.name, 'service')
      const passing = consulFlag(request.query, 'passing')
      const key = `health:${name}:${passing}:${consulTagsFilter(request.query).join(',')}`
      const instances = await blocking(request as Request, reply, key, name, () =>
        hashedInstances(name, instancesOf(name, request.query, passing)),
      )
      const nodes = directory()
      return instances.map((instance) => serviceEntry(instance, nodes))
    },
  )

  server.get<{ Params: { name: string }; Querystring: QueryString }>(
    '/v1/health/checks/:name',
    async (request, reply) => {
      const name = validateName(request.params.name, 'service')
      const instances = await blocking(request as Request, reply, `checks:${name}`, name, () =>
        hashedInstances(name, instancesOf(name, {}, false)),
      )
      const nodes = directory()
      return instances.flatMap((instance) =>
        healthChecks(instance, nodes).filter((check) => check.ServiceID !== ''),
      )
    },
  )

  server.get<{ Params: { state: string }; Querystring: QueryString }>(
    '/v1/health/state/:state',
    async (request, reply) => {
      const state = request.params.state
      if (!['any', 'passing', 'warning', 'critical'].includes(state)) {
        throw new ValidationError('state', 'must be any, passing, warning or critical')
      }
      return blocking(request as Request, reply, `state:${state}`, undefined, () => {
        const nodes = directory()
        return withHash(
          [...agent.services({ includeCritical: true }).values()]
            .flatMap((instances) => sortInstances(instances))
            .flatMap((instance) => healthChecks(instance, nodes))
            .filter((check) => state === 'any' || check.Status === (state as HealthStatus)),
        )
      })
    },
  )

  // ---- status: there is no leader; each agent answers for itself ----

  const selfAddress = () => {
    const gossip = agent.addresses[0] ?? ''
    const port = /\/tcp\/(\d+)/.exec(gossip)?.[1] ?? '0'
    return `${agentAddress()}:${port}`
  }
  server.get('/v1/status/leader', async () => selfAddress())
  server.get('/v1/status/peers', async () => [selfAddress()])

  unsupportedRoutes(server)
}
