import {
  type Registration,
  ValidationError,
  validateId,
  validateRegistration,
} from '@grapevine/core'
import type { FastifyInstance } from 'fastify'
import { NotSupportedError } from '../errors.js'
import { isTtlReport, TTL_REPORTS } from './agent-extensions.js'
import type { ApiContext } from './api-context.js'
import { sortInstances } from './content-index.js'

/**
 * Checks a registration before it reaches the agent, so that a bad request is a 400 naming
 * the field and leaves the stored state untouched whatever the agent does with bad input.
 * Unknown fields are refused (a Consul-cased `Name` gets a hint); `checks`, which the core
 * model does not know, is left for the agent to validate.
 */
function assertRegistration(body: unknown, node: string): asserts body is Registration {
  if (body === undefined) {
    throw new ValidationError('body', 'is required: a JSON registration such as {"name": "api"}')
  }
  validateRegistration(body, node, () => 'not-yet-assigned', ['checks'])
}

/** Writes: register, deregister, TTL reports; and this node's own instances. */
export function registrationRoutes(server: FastifyInstance, ctx: ApiContext): void {
  const { agent } = ctx
  server.post('/v1/register', async (request) => {
    const body = request.body
    assertRegistration(body, agent.peerId)
    const id = await agent.register(body)
    // The checks it created, so `grapevine register` can print the ids `grapevine ttl` takes.
    const checks = (agent.checks?.(id) ?? []).map((check) => ({
      id: check.id,
      ...(check.name !== undefined && { name: check.name }),
      ...(check.kind !== undefined && { kind: check.kind }),
      status: check.status,
    }))
    return { id, checks }
  })

  const deregister = async (id: string) => {
    validateId(id)
    await agent.deregister(id)
    return { id }
  }
  server.delete<{ Params: { id: string } }>('/v1/instances/:id', (request) =>
    deregister(request.params.id),
  )
  server.put<{ Params: { id: string } }>('/v1/deregister/:id', (request) =>
    deregister(request.params.id),
  )

  server.post<{
    Params: { instanceId: string; checkId: string; report: string }
    Querystring: { note?: string | string[] }
  }>('/v1/ttl/:instanceId/:checkId/:report', async (request) => {
    const { instanceId, checkId, report } = request.params
    validateId(instanceId, 'instanceId')
    validateId(checkId, 'checkId')
    if (!isTtlReport(report)) {
      throw new ValidationError('status', `must be one of ${TTL_REPORTS.join(', ')}`)
    }
    const queryNote = request.query.note
    const note = noteOf(request.body) ?? (typeof queryNote === 'string' ? queryNote : undefined)
    if (agent.ttl === undefined) throw new NotSupportedError('TTL checks')
    await agent.ttl(instanceId, checkId, report, note)
    return { instanceId, checkId, status: report }
  })

  // Graceful leave of this agent (`grapevine leave`, Consul's `PUT /v1/agent/leave`): its
  // instances are deregistered, the cluster is told, then the daemon exits.
  server.post('/v1/leave', async () => {
    if (ctx.leave !== undefined) ctx.leave()
    else setImmediate(() => void agent.leave().catch(() => {}))
    return { leaving: true, node: ctx.nodeName, peerId: agent.peerId }
  })

  server.get('/v1/instances', async () =>
    sortInstances(agent.localInstances()).map((instance) => ({
      ...instance,
      checks: agent.checks?.(instance.id) ?? [],
    })),
  )
}

/** The optional `{ "note": "…" }` body of a TTL report. */
function noteOf(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('body', 'must be an object like {"note": "…"} or empty')
  }
  const note = (body as { note?: unknown }).note
  if (note !== undefined && typeof note !== 'string') {
    throw new ValidationError('note', 'must be a string')
  }
  return note
}
