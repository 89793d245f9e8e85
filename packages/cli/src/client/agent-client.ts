import type { Conflict, Member, ServiceInstance, ServiceQuery } from '@grapevine/core'
import type { LocalInstanceView, SelfInfo, WatchMessage } from '../api-types.js'
import { AgentUnreachableError, ApiError } from '../errors.js'
import type { TtlReport } from '../http/agent-extensions.js'
import type { FetchLike, FetchLikeResponse } from './node-http-fetch.js'
import { type WatchHooks, watchStream } from './watch-stream.js'

/** A service query as the HTTP API takes it: core's filters and `passing` (passing only). */
export type ClientServiceQuery = ServiceQuery & { passing?: boolean }

export interface AgentClientInit {
  /** `http://127.0.0.1:8510` */
  baseUrl: string
  token?: string
  /** How requests are made: `globalThis.fetch` or anything shaped like it. @default globalThis.fetch */
  fetch?: FetchLike
}

/** `POST /v1/register`'s answer. */
export interface RegisterAnswer {
  id: string
  checks: Array<{ id: string; name?: string; kind?: string; status: string }>
}

/** A service's instances and the index to pass back for a blocking query. */
export interface IndexedInstances {
  index: number
  instances: ServiceInstance[]
}

/** The agent's HTTP API as typed calls; used by every client command and by the demo. */
export interface AgentClient {
  readonly baseUrl: string
  register(registration: unknown): Promise<string>
  /** Registers and also returns the health checks the agent created, with their ids. */
  registerWithChecks(registration: unknown): Promise<RegisterAnswer>
  deregister(id: string): Promise<void>
  ttl(instanceId: string, checkId: string, report: TtlReport, note?: string): Promise<void>
  services(query?: {
    tags?: readonly string[]
    includeCritical?: boolean
    passing?: boolean
  }): Promise<Record<string, ServiceInstance[]>>
  /** With `index`, blocks until the result differs from it or `wait` runs out. */
  service(
    name: string,
    query?: ClientServiceQuery,
    blocking?: { index: number; wait?: string },
  ): Promise<IndexedInstances>
  members(): Promise<Member[]>
  conflicts(): Promise<Conflict[]>
  instances(): Promise<LocalInstanceView[]>
  self(): Promise<SelfInfo>
  /** Asks the agent to leave the cluster gracefully and exit. */
  leave(): Promise<{ leaving: boolean; node: string; peerId: string }>
  /**
   * The SSE watch stream; reconnects by itself when the agent restarts (see `watchStream`),
   * ends when `signal` aborts, throws when the agent refuses it.
   */
  watch(
    name: string,
    query: ClientServiceQuery,
    signal: AbortSignal,
    hooks?: WatchHooks,
  ): AsyncGenerator<WatchMessage>
}

/** Builds `?tag=a&tag=b&version=…&meta=k=v&all=true&passing` from a query. */
export function serviceQueryString(query: ClientServiceQuery = {}): URLSearchParams {
  const params = new URLSearchParams()
  for (const tag of query.tags ?? []) params.append('tag', tag)
  if (query.version !== undefined) params.set('version', query.version)
  for (const [key, value] of Object.entries(query.metadata ?? {})) {
    params.append('meta', `${key}=${value}`)
  }
  if (query.includeCritical) params.set('all', 'true')
  if (query.passing) params.set('passing', 'true')
  return params
}

export function createAgentClient(init: AgentClientInit): AgentClient {
  const baseUrl = init.baseUrl.replace(/\/$/, '')
  const doFetch = init.fetch ?? globalThis.fetch
  const headers: Record<string, string> = { accept: 'application/json' }
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`

  async function request(
    method: string,
    path: string,
    { body, signal }: { body?: unknown; signal?: AbortSignal } = {},
  ): Promise<FetchLikeResponse> {
    let response: FetchLikeResponse
    try {
      response = await doFetch(`${baseUrl}${path}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal === undefined ? {} : { signal }),
      })
    } catch (err) {
      if (signal?.aborted) throw err
      throw new AgentUnreachableError(baseUrl)
    }
    if (!response.ok) throw await toApiError(response)
    return response
  }

  const json = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
    (await (await request(method, path, { body })).json()) as T

  return {
    baseUrl,
    async registerWithChecks(registration) {
      const answer = await json<Partial<RegisterAnswer> & { id: string }>(
        'POST',
        '/v1/register',
        registration,
      )
      return { id: answer.id, checks: answer.checks ?? [] }
    },
    async register(registration) {
      return (await json<{ id: string }>('POST', '/v1/register', registration)).id
    },
    async deregister(id) {
      await json('DELETE', `/v1/instances/${encodeURIComponent(id)}`)
    },
    async ttl(instanceId, checkId, report, note) {
      const path = `/v1/ttl/${encodeURIComponent(instanceId)}/${encodeURIComponent(checkId)}/${report}`
      await json('POST', path, note === undefined ? undefined : { note })
    },
    services(query = {}) {
      const params = serviceQueryString(query)
      return json('GET', `/v1/services${suffix(params)}`)
    },
    async service(name, query, blocking) {
      const params = serviceQueryString(query)
      if (blocking !== undefined) {
        params.set('index', String(blocking.index))
        if (blocking.wait !== undefined) params.set('wait', blocking.wait)
      }
      const response = await request(
        'GET',
        `/v1/services/${encodeURIComponent(name)}${suffix(params)}`,
      )
      return {
        index: Number(response.headers.get('x-grapevine-index') ?? 0),
        instances: (await response.json()) as ServiceInstance[],
      }
    },
    members: () => json('GET', '/v1/members'),
    conflicts: () => json('GET', '/v1/conflicts'),
    instances: () => json('GET', '/v1/instances'),
    self: () => json('GET', '/v1/self'),
    leave: () => json('POST', '/v1/leave'),
    watch(name, query, signal, hooks) {
      const params = serviceQueryString(query)
      return watchStream({
        url: `${baseUrl}/v1/watch/${encodeURIComponent(name)}${suffix(params)}`,
        baseUrl,
        fetch: doFetch,
        headers: init.token === undefined ? {} : { authorization: `Bearer ${init.token}` },
        signal,
        ...(hooks && { hooks }),
        toError: toApiError,
      })
    },
  }
}

function suffix(params: URLSearchParams): string {
  const text = params.toString()
  return text === '' ? '' : `?${text}`
}

async function toApiError(response: FetchLikeResponse): Promise<ApiError> {
  const text = await response.text()
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; field?: string } }
    if (body.error !== undefined) {
      return new ApiError(
        response.status,
        body.error.code ?? 'ERR_UNKNOWN',
        body.error.message ?? response.statusText,
        body.error.field,
      )
    }
  } catch {
    // Not our JSON: something else answers on this port.
  }
  return new ApiError(
    response.status,
    'ERR_UNKNOWN',
    `HTTP ${response.status} ${response.statusText}: ${text.slice(0, 200)}`,
  )
}
